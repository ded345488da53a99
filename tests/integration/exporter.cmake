# A failing buffer must not turn the exporter into a resend storm (issue 23
# item 6): the real tfo-exporter between exp_faultbuf, a buffer refusing acks
# (as on a full disk), then fetches, then silent, and tfo-sink. Every numbered
# line once; requests per second at the sink and at the buffer bounded.
if(TARGET tfo-exporter AND TARGET tfo-sink AND TARGET tfo_testlib_wspawn)
  add_executable(exp_faultbuf ${CMAKE_CURRENT_LIST_DIR}/exporter/faultbuf.c)
  target_link_libraries(exp_faultbuf PRIVATE tfo_testlib_wspawn tfo_exporter_memsource tfo_ipc
    Threads::Threads)
  set_target_properties(exp_faultbuf PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  add_test(NAME integration.exporter.buffer_faults
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/exporter/test_buffer_faults.py
                   $<TARGET_FILE:exp_faultbuf> $<TARGET_FILE:tfo-exporter> $<TARGET_FILE:tfo-sink>)
  set_tests_properties(integration.exporter.buffer_faults PROPERTIES
    LABELS "integration;exporter" TIMEOUT 120)
endif()
