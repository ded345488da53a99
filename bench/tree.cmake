# bench/tree: CPU and PSS of the whole process tree idle at default intervals,
# and CPU per minute with system metrics every 1 s to a local tfo-sink
# (DESIGN §8). As root, on a Release build. Never run by ctest.
# Run: cmake --build <build> --target bench-tree   (BENCH_SECONDS, default 300: see bench_tree.py)
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(BENCH_SECONDS 300 CACHE STRING "measured seconds per phase of bench-tree")
add_custom_target(bench-tree
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/tree/bench_tree.py
          ${CMAKE_BINARY_DIR}/bin ${BENCH_SECONDS}
  DEPENDS tfo-supervisor tfoctl tfo-sink tfo-system tfo-process tfo-logs tfo-buffer
          tfo-exporter tfo-heartbeat
  USES_TERMINAL)
