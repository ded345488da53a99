# tests/interop - tfo-exporter against a receiver built from the official
# OpenTelemetry JS definitions (receiver.js). npm installs the pinned, locked
# packages in a CTest fixture, so a clean machine only needs node and npm.
find_program(TFO_NODE node)
find_program(TFO_NPM npm)

add_executable(exp_driver ${CMAKE_CURRENT_LIST_DIR}/exp_driver.c
               ${CMAKE_SOURCE_DIR}/tests/lib/until_settled.c)
target_link_libraries(exp_driver PRIVATE tfo_exporter_memsource tfo_exporter_core tfo_base)
set_target_properties(exp_driver PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# End to end: the real tfo-buffer and tfo-exporter workers (when both are built).
set(exp_e2e_env "")
if(TARGET tfo-buffer AND TARGET tfo-exporter)
  add_executable(exp_e2e ${CMAKE_CURRENT_LIST_DIR}/exp_e2e.c)
  target_link_libraries(exp_e2e PRIVATE tfo_testlib_tbuf tfo_exporter_memsource tfo_bufclient)
  set_target_properties(exp_e2e PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  set(exp_e2e_env "EXP_E2E=$<TARGET_FILE:exp_e2e>;TFO_BUFFER_BIN=$<TARGET_FILE:tfo-buffer>;TFO_EXPORTER_BIN=$<TARGET_FILE:tfo-exporter>")
endif()

if(TFO_NODE AND TFO_NPM)
  add_test(NAME interop.exporter.npm_ci
           COMMAND ${TFO_NPM} ci --ignore-scripts --no-audit --no-fund --loglevel=error
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(interop.exporter.npm_ci PROPERTIES
    FIXTURES_SETUP exporter_npm LABELS "interop;exporter" TIMEOUT 300
    RESOURCE_LOCK exporter_npm)
  set(scenarios grpc http retry retryinfo drop outage slow tls)
  if(exp_e2e_env)
    list(APPEND scenarios e2e)
  endif()
  foreach(s ${scenarios})
    add_test(NAME interop.exporter.${s}
             COMMAND ${TFO_NODE} ${CMAKE_CURRENT_LIST_DIR}/exporter.test.js ${s}
             WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(interop.exporter.${s} PROPERTIES
      FIXTURES_REQUIRED exporter_npm LABELS "interop;exporter" TIMEOUT 120
      ENVIRONMENT "EXP_DRIVER=$<TARGET_FILE:exp_driver>;TFO_VERSION=${PROJECT_VERSION};${exp_e2e_env}")
  endforeach()
else()
  message(WARNING "node/npm not found: exporter interop tests not registered")
endif()
