# tfo-sink end to end: real binary on port 0, requests with the curl CLI.
add_test(NAME integration.sink
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/sink/test_sink.py $<TARGET_FILE:tfo-sink>)
set_tests_properties(integration.sink PROPERTIES LABELS integration TIMEOUT 180)
