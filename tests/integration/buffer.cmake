# Integration test of the real tfo-buffer: kill -9 during a stream of puts and
# between fetch and ack; every acknowledged put is delivered exactly once.
if(TARGET tfo-buffer)
  add_executable(buffer_crash ${CMAKE_CURRENT_LIST_DIR}/buffer/buffer_crash.c)
  target_link_libraries(buffer_crash PRIVATE tfo_testlib_tbuf tfo_bufclient Threads::Threads)
  set_target_properties(buffer_crash PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.buffer_crash COMMAND buffer_crash $<TARGET_FILE:tfo-buffer>)
  set_tests_properties(integration.buffer_crash PROPERTIES LABELS "integration;buffer" TIMEOUT 180)
endif()
