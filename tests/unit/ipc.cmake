# unit.ipc: nng started with small thread pools (common/nnginit.c).
tfo_unit_test(test_nnginit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ipc/test_nnginit.c
  LIBS tfo_ipc)
