# integration.system: real tfo-system + tfo-buffer (no supervisor yet): two
# cycles of the real /proc stored and read back through the export channel.
if(TARGET tfo-system AND TARGET tfo-buffer)
  add_executable(system_it ${CMAKE_CURRENT_LIST_DIR}/system/system_it.c
    ${CMAKE_SOURCE_DIR}/tests/unit/system/tu.c)
  target_link_libraries(system_it PRIVATE tfo_testlib_tbuf tfo_bufclient PkgConfig::CMOCKA)
  set_target_properties(system_it PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.system COMMAND system_it $<TARGET_FILE:tfo-system> $<TARGET_FILE:tfo-buffer>)
  set_tests_properties(integration.system PROPERTIES LABELS "integration;system" TIMEOUT 120)
endif()
