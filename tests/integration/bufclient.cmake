# A put against a peer that drops every connection as the put arrives is
# resent after a pause, not in a hot loop (tests/integration/bufclient/).
if(TARGET tfo_bufclient)
  add_executable(bufclient_drop ${CMAKE_CURRENT_LIST_DIR}/bufclient/bufclient_drop.c)
  target_link_libraries(bufclient_drop PRIVATE tfo_bufclient Threads::Threads)
  set_target_properties(bufclient_drop PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.bufclient.drop COMMAND bufclient_drop)
  set_tests_properties(integration.bufclient.drop PROPERTIES LABELS "integration" TIMEOUT 60
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/bufclient/lsan-nng.supp")
endif()
