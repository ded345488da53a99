# bench/logs_e2e: file -> tfo-logs -> tfo-buffer -> tfo-exporter -> tfo-sink
# throughput (MiB/s, lines/s) and CPU seconds per process, under the real
# supervisor (DESIGN §8: >= 100 MiB/s). As root, on a Release build. Never run
# by ctest. Run: cmake --build <build> --target bench-logs-e2e
# (or bench/logs_e2e/bench_logs_e2e.py <build>/bin [MiB] [line bytes] [gzip|none])
find_package(Python3 COMPONENTS Interpreter REQUIRED)
add_custom_target(bench-logs-e2e
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/logs_e2e/bench_logs_e2e.py
          ${CMAKE_BINARY_DIR}/bin 256 120 none
  DEPENDS tfo-supervisor tfoctl tfo-sink tfo-logs tfo-buffer tfo-exporter
  USES_TERMINAL)
