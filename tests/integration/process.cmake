# integration.process: the real tfo-process driven through fd 3 by proc_drive
# (which also plays tfo-buffer's ingest), watching a busy loop and a sleeper
# run as nobody. Runs as root (skips with 77 otherwise).
add_executable(proc_drive ${CMAKE_CURRENT_LIST_DIR}/process/proc_drive.c)
target_link_libraries(proc_drive PRIVATE tfo_testlib_wspawn tfo_ipc tfo_proto tfo_nng)
set_target_properties(proc_drive PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
find_package(Python3 COMPONENTS Interpreter REQUIRED)
add_test(NAME integration.process
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/process/test_process.py
                 $<TARGET_FILE:proc_drive> $<TARGET_FILE:tfo-process>)
set_tests_properties(integration.process PROPERTIES
  LABELS "integration;process" TIMEOUT 120 SKIP_RETURN_CODE 77)
