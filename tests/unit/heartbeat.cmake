# unit.heartbeat: payload fields and values on fixture roots; the POST and the
# cloud metadata lookups tfo-exporter makes for the heartbeat (hbsend.c,
# hbcloud.c) against an in-test HTTP server; the hand-off over heartbeat.ipc
# (link.c -> hbrelay.c) with its peer checks, deadlines and hostile requests;
# the beat schedule (sched.c: the first beat anywhere in the interval).
tfo_unit_test(test_hb_payload
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_payload.c
  LIBS tfo_heartbeat)
# unit.test_hb_live: on the real root, uname and the netlink dump give what
# the files they replace say; in a mount namespace of its own (root), a
# partition mounted or unmounted between beats is in the next beat.
tfo_unit_test(test_hb_live
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_hb_live.c
  LIBS tfo_heartbeat)
tfo_unit_test(test_hb_sender
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_sender.c
          ${CMAKE_CURRENT_LIST_DIR}/heartbeat/httpd.c
  LIBS tfo_exporter_hb Threads::Threads)
tfo_unit_test(test_hb_cloud
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_cloud.c
          ${CMAKE_CURRENT_LIST_DIR}/heartbeat/httpd.c
  LIBS tfo_exporter_hb Threads::Threads)
tfo_unit_test(test_hb_link
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_link.c
          ${CMAKE_CURRENT_LIST_DIR}/heartbeat/httpd.c
  LIBS tfo_heartbeat_link tfo_heartbeat tfo_exporter_hb Threads::Threads)
tfo_unit_test(test_hb_link_peer
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_link.c
          ${CMAKE_CURRENT_LIST_DIR}/heartbeat/httpd.c
  LIBS tfo_heartbeat_link tfo_heartbeat tfo_exporter_hb Threads::Threads)
target_compile_definitions(test_hb_link_peer PRIVATE TEST_LINK_PEER=1)
# nng 1.5.2 loses sockets closed during a refusal storm (see test_link.c)
set_tests_properties(unit.test_hb_link_peer PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
tfo_unit_test(test_hb_sched
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_sched.c
  LIBS tfo_heartbeat)
