# Unit tests of tfo-supervisor's pure parts and the fd-3 framing.
tfo_unit_test(test_sv_policy
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_policy.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_control_chan
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_control_chan.c
  LIBS tfo_worker)
# the recv calls a packet takes, counted (issue 18 §3)
target_link_options(test_control_chan PRIVATE -Wl,--wrap=recv)
tfo_unit_test(test_sv_incarnation
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_incarnation.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_worker_dir
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_worker_dir.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_sdnotify
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_sdnotify.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_sv_selfstats
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_selfstats.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_sv_status_line
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_status_line.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_sv_diskwait
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_diskwait.c
  LIBS tfo_supervisor_core)
tfo_unit_test(test_sv_idlelook
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_idlelook.c
  LIBS tfo_supervisor_core)
