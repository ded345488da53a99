# bench/logs: throughput of the tfo-logs engine (file -> records -> OTLP -> counting sink).
add_executable(bench_logs ${CMAKE_CURRENT_LIST_DIR}/logs/bench_logs.c)
target_link_libraries(bench_logs PRIVATE tfo_logs_tail)
set_target_properties(bench_logs PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
