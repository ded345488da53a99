# bench/system: CPU time of one tfo-system collection cycle and of each family
# against the real /proc. Run: <build>/bench/bench_system [runs] [proc_root]
add_executable(bench_system ${CMAKE_CURRENT_LIST_DIR}/system/bench_system.c)
target_link_libraries(bench_system PRIVATE tfo_system_collect tfo_resource)
set_target_properties(bench_system PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
