# bench/ipc: CPU of one idle request/reply between two processes, nng REQ/REP
# over ipc:// (the data path) against a SOCK_SEQPACKET pair (fd 3's control
# channel): what a transport change would save (docs/architecture.md, "Idle
# CPU"). Run: <build>/bench/bench_ipc [exchanges] [gap_ms]
add_executable(bench_ipc ${CMAKE_CURRENT_LIST_DIR}/ipc/bench_ipc.c)
target_link_libraries(bench_ipc PRIVATE tfo_nng)
set_target_properties(bench_ipc PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
