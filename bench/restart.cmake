# bench/restart: median kill -9 -> ready again of a worker (DESIGN §8), as root.
# Run: cmake --build <build> --target bench-restart
find_package(Python3 COMPONENTS Interpreter REQUIRED)
add_custom_target(bench-restart
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/restart/bench_restart.py
          ${CMAKE_BINARY_DIR}/bin 20
  DEPENDS tfo-supervisor tfoctl tfo-testworker tfo-process
  USES_TERMINAL)
