# common/safepath.c: root's walk of a path (issue 24 §2), with planted links,
# foreign owners, writable and sticky directories, FIFOs and link loops.
tfo_unit_test(test_safepath SOURCES ${CMAKE_CURRENT_LIST_DIR}/safepath/test_safepath.c
  LIBS tfo_safepath)
