# bench/buffer: tfo-buffer ingest and drain rates, sync on/off, in-process and
# over ipc. Run: bench_buffer [seconds] [path to tfo-buffer]
if(TARGET tfo_worker)
  add_executable(bench_buffer ${CMAKE_CURRENT_LIST_DIR}/buffer/bench_buffer.c)
  target_link_libraries(bench_buffer PRIVATE tfo_testlib_tbuf tfo_buffer_store tfo_bufclient
    Threads::Threads)
  set_target_properties(bench_buffer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif()
