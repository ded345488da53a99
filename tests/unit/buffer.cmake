# Unit tests of tfo-buffer's store and request dispatch (cmocka).
tfo_unit_test(buffer_store
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer/test_store.c ${CMAKE_CURRENT_LIST_DIR}/buffer/helpers.c
  LIBS tfo_buffer_store)
tfo_unit_test(buffer_dispatch
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer/test_dispatch.c ${CMAKE_CURRENT_LIST_DIR}/buffer/helpers.c
  LIBS tfo_buffer_store)
tfo_unit_test(bufclient
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer/test_bufclient.c
  LIBS tfo_bufclient tfo_collector Threads::Threads)
tfo_unit_test(buffer_format
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer/test_format.c ${CMAKE_CURRENT_LIST_DIR}/buffer/helpers.c
  LIBS tfo_buffer_store)
tfo_unit_test(buffer_full
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer/test_full.c ${CMAKE_CURRENT_LIST_DIR}/buffer/helpers.c
  LIBS tfo_buffer_store)
