# Issue 16 §2, tfo-buffer alone (played supervisor: tests/integration/buffer/
# spawn.c, which pings):
#  - buffer_listener: peers that leave during the handshake stop nng 1.5.2's
#    listener; the buffer's health probe finds it and listens again;
#  - buffer_slowpeer: a peer on the export socket that sends fetches and never
#    reads the answers: each reply has 2 s, then its connection is closed; the
#    contexts serve again.
if(TARGET tfo-buffer)
  foreach(t buffer_listener buffer_slowpeer)
    add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/buffer/${t}.c)
    target_link_libraries(${t} PRIVATE tfo_testlib_tbuf tfo_bufclient Threads::Threads)
    set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME integration.${t} COMMAND ${t} $<TARGET_FILE:tfo-buffer>)
    set_tests_properties(integration.${t} PROPERTIES LABELS "integration;buffer" TIMEOUT 120)
  endforeach()
endif()

# The whole tree, as root: tfo-buffer SIGSTOPped for 20 s then SIGCONT (not
# killed: hung_timeout 30 s), and SIGSTOPped for good (killed as hung and
# restarted), and for good while the supervisor stops (the stop keeps its
# bound); collectors not restarted, every numbered line at the sink.
if(TARGET tfo-buffer AND TARGET tfo-supervisor AND TARGET tfo-logs AND TARGET tfo-system
   AND TARGET tfo-exporter AND TARGET tfo-sink AND TARGET tfoctl)
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  foreach(case resume forever stop)
    add_test(NAME integration.buffer.sigstop.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/buffer/test_buffer_stall.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.buffer.sigstop.${case} PROPERTIES
      LABELS "integration;buffer" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
endif()
