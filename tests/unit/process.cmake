# unit.test_procfs_pid: the /proc/<pid> parsers (common/procfs_pid) on recorded
# and hand-written fixtures (tests/fixtures/proc-pid), every truncation.
tfo_unit_test(test_procfs_pid
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/process/test_procfs_pid.c
  LIBS tfo_procfs_pid)
# unit.test_process: a tfo-process collection over a copy of the fixture root:
# selection, redaction, owners, kernel threads, zombies, vanishing processes.
tfo_unit_test(test_process
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/process/test_process.c
          ${CMAKE_CURRENT_LIST_DIR}/process/pt.c
          ${CMAKE_SOURCE_DIR}/tests/unit/system/tu.c
  LIBS tfo_process_collect)
# both start the real tfo-procpriv from the build tree
add_dependencies(test_process tfo-procpriv)
# unit.test_process_live: over the live /proc, a child reported every cycle:
# the files kept open between cycles follow its threads and its command line,
# and are closed once it leaves the selection or exits; its pid taken by
# another user's process is reported as that process's alone (pidreuse.c).
tfo_unit_test(test_process_live
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/process/test_process_live.c
          ${CMAKE_CURRENT_LIST_DIR}/process/pidreuse.c
          ${CMAKE_CURRENT_LIST_DIR}/process/pt.c
          ${CMAKE_SOURCE_DIR}/tests/unit/system/tu.c
  LIBS tfo_process_collect Threads::Threads)
add_dependencies(test_process_live tfo-procpriv)
# unit.test_priv: tfo-process's privileged reader over the live /proc: batches
# (round trips per cycle), a killed or confused helper, the reply parser, a
# kept process's pid taken by another user's process (pidreuse.c).
tfo_unit_test(test_priv
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/process/test_priv.c
          ${CMAKE_CURRENT_LIST_DIR}/process/pidreuse.c
  LIBS tfo_process_collect)
add_dependencies(test_priv tfo-procpriv)
