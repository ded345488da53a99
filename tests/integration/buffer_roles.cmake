# Compromised collectors on the live ingest socket under the real supervisor,
# as root with the role users (skipped otherwise). ingest_forge plays a role's
# uid; each test counts what tfo-sink received, exactly.
if(TARGET tfo-buffer AND TARGET tfo-supervisor AND TARGET tfo-logs AND TARGET tfo-sink
   AND TARGET tfoctl)
  add_executable(ingest_forge ${CMAKE_CURRENT_LIST_DIR}/buffer/ingest_forge.c)
  target_link_libraries(ingest_forge PRIVATE tfo_bufclient)
  set_target_properties(ingest_forge PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  function(tfo_forge_test name script timeout)
    add_test(NAME integration.buffer.${name}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/buffer/${script}
                     ${CMAKE_BINARY_DIR}/bin $<TARGET_FILE:ingest_forge>)
    set_tests_properties(integration.buffer.${name} PROPERTIES
      LABELS "integration;buffer;security" TIMEOUT ${timeout} SKIP_RETURN_CODE 77)
  endfunction()
  # Issue 24 §1: tfo-system's uid naming role logs is refused; every numbered
  # line arrives once.
  tfo_forge_test(forged_roles test_forged_roles.py 180)
  # tfo-system floods valid puts of its own role, 16 times the bound, while
  # tfo-logs' lines wait for the receiver: every line arrives once.
  tfo_forge_test(flood test_flood.py 180)
  # The same flood while tfo-process's numbered metrics batches wait with it
  # (one signal, two roles): every batch arrives exactly once (the bound is
  # shared per putting role, not per signal).
  tfo_forge_test(flood_roles test_flood_roles.py 300)
endif()
