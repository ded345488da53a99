# Fuzz harness over tfo-buffer's ingest and export request dispatch.
tfo_fuzz_target(buffer_requests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer/fuzz_dispatch.c
  LIBS tfo_buffer_store
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/buffer/corpus)
