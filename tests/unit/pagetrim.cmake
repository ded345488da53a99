# common/pagetrim.c (issue 18 §2): start-up's file pages unmapped, nothing
# the process holds lost.
tfo_unit_test(test_pagetrim SOURCES ${CMAKE_CURRENT_LIST_DIR}/pagetrim/test_pagetrim.c
  LIBS tfo_base m)
# Every symbol bound at load: a lazy binding's lookup after the trim would
# map the libraries' symbol tables again (test_headers_unmapped).
target_link_options(test_pagetrim PRIVATE -Wl,-z,now)
# common/memtrim.c (issue 18 §2): the main stack's dead frames and the heap's
# free pages given back, live data kept.
tfo_unit_test(test_memtrim SOURCES ${CMAKE_CURRENT_LIST_DIR}/pagetrim/test_memtrim.c
  LIBS tfo_base)
