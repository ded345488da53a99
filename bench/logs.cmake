# bench/logs: throughput of the tfo-logs engine (file -> records -> OTLP -> counting sink).
add_executable(bench_logs ${CMAKE_CURRENT_LIST_DIR}/logs/bench_logs.c)
target_link_libraries(bench_logs PRIVATE tfo_logs_tail)
set_target_properties(bench_logs PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)

# bench/logs/bench_logs_idle.py: tfo-logs' CPU while 1, 1000 and 2000
# followed files stay idle, per 1,000 files (issue 25 §3: budget 0.02 % of a
# core). As root, on a Release build. Never run by ctest.
# Run: cmake --build <build> --target bench-logs-idle
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(BENCH_LOGS_IDLE_SECONDS 60 CACHE STRING "measured seconds per file count of bench-logs-idle")
add_custom_target(bench-logs-idle
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/logs/bench_logs_idle.py
          ${CMAKE_BINARY_DIR}/bin ${BENCH_LOGS_IDLE_SECONDS}
  DEPENDS tfo-supervisor tfoctl tfo-sink tfo-logs tfo-buffer tfo-exporter
  USES_TERMINAL)
