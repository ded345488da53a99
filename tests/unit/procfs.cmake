# unit.test_procfs: the /proc and /sys parsers on recorded and hand-written
# fixtures (tests/fixtures/proc/), exact values, every truncation of each file.
tfo_unit_test(test_procfs
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/procfs/test_procfs.c
  LIBS tfo_procfs)
