# integration.heartbeat: the real collector, the hand-off over heartbeat.ipc
# and tfo-exporter's relay + sender (driver hb-once) against a fake API in
# Python on an ephemeral port (numbers compared with /proc), and through
# tools/tfo-sink --fail-first when that target is built.
add_executable(hb-once ${CMAKE_CURRENT_LIST_DIR}/heartbeat/hb_once.c)
target_link_libraries(hb-once PRIVATE tfo_heartbeat tfo_heartbeat_link tfo_exporter_hb)
set_target_properties(hb-once PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
set(hb_sink "")
if(TARGET tfo-sink)
  set(hb_sink $<TARGET_FILE:tfo-sink>)
endif()
add_test(NAME integration.heartbeat
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_heartbeat.py
                 $<TARGET_FILE:hb-once> ${hb_sink})
set_tests_properties(integration.heartbeat PROPERTIES LABELS integration TIMEOUT 120)

# The real worker under the real supervisor (root; skipped when the role users
# do not exist). tfo-testworker comes from supervisor.cmake, included after
# this file, so its source is what is checked.
if(TARGET tfo-supervisor AND TARGET tfoctl AND TARGET tfo-sink AND TARGET tfo-heartbeat
   AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/supervisor/tfo-testworker.c)
  foreach(case beats api_down stale shared)
    add_test(NAME integration.heartbeat.supervisor.${case}
             COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_hb_supervisor.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.heartbeat.supervisor.${case} PROPERTIES
      LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
  endforeach()
  # DESIGN §8 "network egress": exactly one process of the running tree maps
  # libcurl and may connect out; every role real, logs and heartbeat on.
  add_test(NAME integration.egress
           COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_hb_supervisor.py
                   ${CMAKE_BINARY_DIR}/bin egress)
  set_tests_properties(integration.egress PROPERTIES
    LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
  # a taken-over tfo-heartbeat on its own socket (docs/security.md)
  add_executable(hb_forge ${CMAKE_CURRENT_LIST_DIR}/heartbeat/hb_forge.c)
  target_link_libraries(hb_forge PRIVATE tfo_ipc)
  set_target_properties(hb_forge PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.heartbeat.supervisor.forged
           COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_hb_supervisor.py
                   ${CMAKE_BINARY_DIR}/bin forged $<TARGET_FILE:hb_forge>)
  set_tests_properties(integration.heartbeat.supervisor.forged PROPERTIES
    LABELS "integration;supervisor" TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
