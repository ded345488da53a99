# Integration tests of tfo-supervisor (run as root): real supervisor, the
# test worker tfo-testworker in every role slot until the real roles exist.
add_executable(tfo-testworker ${CMAKE_CURRENT_LIST_DIR}/supervisor/tfo-testworker.c)
target_link_libraries(tfo-testworker PRIVATE tfo_worker)
add_executable(ctlpoke ${CMAKE_CURRENT_LIST_DIR}/supervisor/ctlpoke.c)
target_link_libraries(ctlpoke PRIVATE tfo_ipc tfo_proto)
set_target_properties(ctlpoke PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

find_package(Python3 COMPONENTS Interpreter REQUIRED)
foreach(case identity kill9 exit_startup hung crash garbage_fd3 garbage_ctl refused
        reload shutdown notify not_running tfoctl_cli
        real_roles signals)
  add_test(NAME integration.supervisor.${case}
           COMMAND ${Python3_EXECUTABLE}
                   ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_supervisor.py
                   ${CMAKE_BINARY_DIR}/bin ${case})
  set_tests_properties(integration.supervisor.${case} PROPERTIES
    LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
endforeach()

add_test(NAME integration.supervisor.unit_verify
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/supervisor/unit-verify.sh
                 ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.supervisor.unit_verify PROPERTIES
  LABELS "integration;supervisor" TIMEOUT 60)
