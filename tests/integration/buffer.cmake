# Integration test of the real tfo-buffer: kill -9 during a stream of puts and
# between fetch and ack; every acknowledged put is delivered exactly once.
if(TARGET tfo-buffer)
  add_executable(buffer_crash ${CMAKE_CURRENT_LIST_DIR}/buffer/buffer_crash.c)
  target_link_libraries(buffer_crash PRIVATE tfo_testlib_tbuf tfo_bufclient Threads::Threads)
  set_target_properties(buffer_crash PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.buffer_crash COMMAND buffer_crash $<TARGET_FILE:tfo-buffer>)
  set_tests_properties(integration.buffer_crash PROPERTIES LABELS "integration;buffer" TIMEOUT 180)
endif()
# The store's format version with the real worker: a newer format refused with
# one line, left in place, readable again once marked with a known format.
if(TARGET tfo-buffer)
  add_executable(buffer_format_it ${CMAKE_CURRENT_LIST_DIR}/buffer/buffer_format.c)
  target_link_libraries(buffer_format_it PRIVATE tfo_testlib_tbuf tfo_bufclient tfo_leveldb)
  set_target_properties(buffer_format_it PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.buffer_format COMMAND buffer_format_it $<TARGET_FILE:tfo-buffer>)
  set_tests_properties(integration.buffer_format PROPERTIES LABELS "integration;buffer" TIMEOUT 60)
endif()
# buffer.path as root makes it: 0700 / 0600 whatever was there, links the role
# user planted never followed (a throw-away user plays the role user).
if(TARGET tfo-buffer)
  add_executable(buffer_statedir ${CMAKE_CURRENT_LIST_DIR}/buffer/buffer_statedir.c)
  target_link_libraries(buffer_statedir PRIVATE tfo_testlib_tbuf)
  set_target_properties(buffer_statedir PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.buffer_statedir COMMAND buffer_statedir $<TARGET_FILE:tfo-buffer>)
  set_tests_properties(integration.buffer_statedir PROPERTIES LABELS "integration;buffer"
    TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()
