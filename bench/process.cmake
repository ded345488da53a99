# bench/process: CPU per tfo-process cycle with 1000 extra sleeping processes
# spawned by the bench (budget: <= 10 ms per cycle, DESIGN §8).
add_executable(bench_process ${CMAKE_CURRENT_LIST_DIR}/process/bench_process.c)
target_link_libraries(bench_process PRIVATE tfo_process_collect)
set_target_properties(bench_process PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_dependencies(bench_process tfo-procpriv)
