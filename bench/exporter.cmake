# bench/exporter - tfo-exporter throughput to a local OTLP receiver (gRPC and
# HTTP, gzip on/off). Run: bench/exporter/run.sh <build-dir>. Never run by ctest.
add_executable(bench_exporter ${CMAKE_CURRENT_LIST_DIR}/exporter/bench_exporter.c
               ${CMAKE_SOURCE_DIR}/tests/lib/until_settled.c)
target_link_libraries(bench_exporter PRIVATE tfo_exporter_memsource tfo_exporter_core tfo_base)
set_target_properties(bench_exporter PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
