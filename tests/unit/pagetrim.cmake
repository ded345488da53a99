# common/pagetrim.c (issue 18 §2): start-up's file pages unmapped, nothing
# the process holds lost.
tfo_unit_test(test_pagetrim SOURCES ${CMAKE_CURRENT_LIST_DIR}/pagetrim/test_pagetrim.c
  LIBS tfo_base m)
