# unit.heartbeat: payload fields and values on fixture roots, sender retry
# logic against an in-test HTTP server, cloud metadata against a local fake.
tfo_unit_test(test_hb_payload
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_payload.c
  LIBS tfo_heartbeat)
tfo_unit_test(test_hb_sender
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_sender.c
          ${CMAKE_CURRENT_LIST_DIR}/heartbeat/httpd.c
  LIBS tfo_heartbeat Threads::Threads)
tfo_unit_test(test_hb_cloud
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_cloud.c
          ${CMAKE_CURRENT_LIST_DIR}/heartbeat/httpd.c
  LIBS tfo_heartbeat Threads::Threads)
