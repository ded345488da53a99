# bench/heartbeat: CPU time of one tfo-heartbeat beat's collection and payload
# against the real /proc, /sys, /etc. Run: <build>/bench/bench_heartbeat [runs] [root]
add_executable(bench_heartbeat ${CMAKE_CURRENT_LIST_DIR}/heartbeat/bench_heartbeat.c)
target_link_libraries(bench_heartbeat PRIVATE tfo_heartbeat)
set_target_properties(bench_heartbeat PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
