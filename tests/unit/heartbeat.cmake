# unit.heartbeat: payload fields and values on fixture roots, sender retry
# logic against an in-test HTTP server, cloud metadata against a local fake.
tfo_unit_test(test_hb_payload
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_payload.c
  LIBS tfo_heartbeat)
