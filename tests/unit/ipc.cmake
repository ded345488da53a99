# unit.ipc: nng started with small thread pools (common/nnginit.c).
tfo_unit_test(test_nnginit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ipc/test_nnginit.c
  LIBS tfo_ipc)
# unit.ipc: nng_close with a bound (common/ipcclose.c)
tfo_unit_test(test_ipcclose
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ipc/test_ipcclose.c
  LIBS tfo_ipc Threads::Threads)
