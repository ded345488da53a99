# Issue 24 §1: a compromised collector (tfo-system's uid) naming role logs on
# the live ingest socket under the real supervisor is refused; every numbered
# line arrives once. As root with the role users (skipped otherwise).
if(TARGET tfo-buffer AND TARGET tfo-supervisor AND TARGET tfo-logs AND TARGET tfo-sink
   AND TARGET tfoctl)
  add_executable(ingest_forge ${CMAKE_CURRENT_LIST_DIR}/buffer/ingest_forge.c)
  target_link_libraries(ingest_forge PRIVATE tfo_bufclient)
  set_target_properties(ingest_forge PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  add_test(NAME integration.buffer.forged_roles
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/buffer/test_forged_roles.py
                   ${CMAKE_BINARY_DIR}/bin $<TARGET_FILE:ingest_forge>)
  set_tests_properties(integration.buffer.forged_roles PROPERTIES
    LABELS "integration;buffer;security" TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()
# A compromised collector (tfo-system's uid) floods the buffer with valid
# puts of its own role, 16 times its bound, while tfo-logs' lines wait for the
# receiver: every line arrives once (each signal keeps its share of the bound).
if(TARGET ingest_forge)
  add_test(NAME integration.buffer.flood
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/buffer/test_flood.py
                   ${CMAKE_BINARY_DIR}/bin $<TARGET_FILE:ingest_forge>)
  set_tests_properties(integration.buffer.flood PROPERTIES
    LABELS "integration;buffer;security" TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()
