# tfo-logs integration (issue 10): the real tfo-logs and tfo-buffer, this
# driver as supervisor and exporter; rotation, copytruncate, delete and kill -9
# of each process with exact line accounting. The full-tree version (with
# tfo-supervisor, tfo-exporter and tfo-sink) is specified in docs/logs.md.
if(TARGET tfo-logs AND TARGET tfo-buffer)
  add_executable(logs_crash ${CMAKE_CURRENT_LIST_DIR}/logs/logs_crash.c)
  target_link_libraries(logs_crash PRIVATE tfo_testlib_wspawn tfo_bufclient Threads::Threads)
  set_target_properties(logs_crash PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME integration.logs_crash
           COMMAND logs_crash $<TARGET_FILE:tfo-logs> $<TARGET_FILE:tfo-buffer>)
  set_tests_properties(integration.logs_crash PROPERTIES LABELS "integration;logs" TIMEOUT 180)
endif()

# Whole-tree cases (tests/integration/logs/test_logs_tree.py): the real
# supervisor, tfo-logs, tfo-buffer, tfo-exporter and tfo-sink --strict-utf8,
# numbered lines counted exactly at the sink. Root only (skipped otherwise).
if(TFO_E2E_READY)
  foreach(case utf8_name copytruncate_glob copytruncate_live many_files many_files_capped
               restart_h0 restart_h300 restart_h4000 running_h0 running_h300 running_h4000
               links)
    add_test(NAME integration.logs.tree.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/logs/test_logs_tree.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.logs.tree.${case} PROPERTIES
      LABELS "integration;logs;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
endif()

# The log files outside probes vary (tests/integration/logs/test_logs_vary.py):
# a "current" symlink switched to each new file, and what a user who may write
# the watched directory can put there (FIFO, socket, a 1 MiB line, binary data,
# a line without its newline). Root only (skipped otherwise).
if(TFO_E2E_READY)
  foreach(case symlink_switch hostile)
    add_test(NAME integration.logs.vary.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/logs/test_logs_vary.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.logs.vary.${case} PROPERTIES
      LABELS "integration;logs;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
endif()

# A "current" symlink switched across 13 files quickly (several switches
# within one rescan interval), late lines to the two files before
# (tests/integration/logs/test_logs_switch.py).
if(TFO_E2E_READY)
  foreach(case fast)
    add_test(NAME integration.logs.switch.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/logs/test_logs_switch.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.logs.switch.${case} PROPERTIES
      LABELS "integration;logs;e2e" TIMEOUT 120 SKIP_RETURN_CODE 77)
  endforeach()
endif()
