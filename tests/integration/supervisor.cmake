# Integration tests of tfo-supervisor (run as root): real supervisor, the
# test worker tfo-testworker in every role slot until the real roles exist.
add_executable(tfo-testworker ${CMAKE_CURRENT_LIST_DIR}/supervisor/tfo-testworker.c)
target_link_libraries(tfo-testworker PRIVATE tfo_worker)
add_executable(ctlpoke ${CMAKE_CURRENT_LIST_DIR}/supervisor/ctlpoke.c)
target_link_libraries(ctlpoke PRIVATE tfo_ipc tfo_proto)
set_target_properties(ctlpoke PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

find_package(Python3 COMPONENTS Interpreter REQUIRED)
foreach(case identity kill9 exit_startup hung hung_deadline quiet_pongs idle_unwoken idle_then_hang
        real_idle stalled crash garbage_fd3 garbage_ctl refused
        reload shutdown notify not_running tfoctl_cli
        real_roles signals stats_on_demand self_stats cpus)
  add_test(NAME integration.supervisor.${case}
           COMMAND ${Python3_EXECUTABLE}
                   ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_supervisor.py
                   ${CMAKE_BINARY_DIR}/bin ${case})
  set_tests_properties(integration.supervisor.${case} PROPERTIES
    LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
endforeach()

# The release build's real tree (case_release_tree): `make test` passes the
# gcc release build's bin/ as TFO_RELEASE_BIN, since ctest runs the sanitizer
# build, whose seccomp filters allow what ASan needs.
if(TFO_RELEASE_BIN)
  add_test(NAME integration.supervisor.release_tree
           COMMAND ${Python3_EXECUTABLE}
                   ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_supervisor.py
                   ${TFO_RELEASE_BIN} release_tree)
  set_tests_properties(integration.supervisor.release_tree PROPERTIES
    LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()

add_test(NAME integration.supervisor.unit_verify
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/supervisor/unit-verify.sh
                 ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.supervisor.unit_verify PROPERTIES
  LABELS "integration;supervisor" TIMEOUT 60)

# The root supervisor's trust in paths and in itself (issue 24 §2/§4, issue
# 17 §3): attacks played by a throw-away user created and removed per case.
foreach(case links_user_dir links_sticky user_config reach dev_mode worker_binary
        log_forgery)
  add_test(NAME integration.supervisor.paths.${case}
           COMMAND ${Python3_EXECUTABLE}
                   ${CMAKE_CURRENT_LIST_DIR}/supervisor/test_paths.py
                   ${CMAKE_BINARY_DIR}/bin ${case})
  set_tests_properties(integration.supervisor.paths.${case} PROPERTIES
    LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
endforeach()
