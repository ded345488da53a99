# integration.heartbeat: the real collector and sender (driver hb-once) against
# a fake API in Python on an ephemeral port (numbers compared with /proc), and
# through tools/tfo-sink --fail-first when that target is built.
add_executable(hb-once ${CMAKE_CURRENT_LIST_DIR}/heartbeat/hb_once.c)
target_link_libraries(hb-once PRIVATE tfo_heartbeat)
set_target_properties(hb-once PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
set(hb_sink "")
if(TARGET tfo-sink)
  set(hb_sink $<TARGET_FILE:tfo-sink>)
endif()
add_test(NAME integration.heartbeat
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/heartbeat/test_heartbeat.py
                 $<TARGET_FILE:hb-once> ${hb_sink})
set_tests_properties(integration.heartbeat PROPERTIES LABELS integration TIMEOUT 120)
