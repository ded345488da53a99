# tfo_worker: the worker skeleton (fd-3 channel, identity drop, sandbox hook),
# linked by every role and by tfo-supervisor (for the fd-3 framing).
add_library(tfo_worker STATIC
  ${CMAKE_CURRENT_LIST_DIR}/worker.c
  ${CMAKE_CURRENT_LIST_DIR}/worker_chan.c)
target_link_libraries(tfo_worker PUBLIC tfo_sandbox tfo_privdrop tfo_safepath tfo_hist tfo_base tfo_ipc tfo_proto
  PkgConfig::LIBEVENT PkgConfig::CAPNG PkgConfig::SECCOMP)
