# The buffer's replies as tfo-logs (Checkpoints) and tfo-exporter (Batch)
# receive them: decode, then the code that consumes them.
if(TARGET tfo_logs_tail AND TARGET tfo_exporter_core)
  tfo_fuzz_target(fuzz_buffer_replies
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/replies/fuzz_replies.c
    LIBS tfo_logs_tail tfo_exporter_core tfo_ipc tfo_payload
    CORPUS ${CMAKE_CURRENT_LIST_DIR}/replies/corpus)
endif()
