# unit.test_procfs: the /proc and /sys parsers on recorded and hand-written
# fixtures (tests/fixtures/proc/), exact values, every truncation of each file.
tfo_unit_test(test_procfs
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/procfs/test_procfs.c
  LIBS tfo_procfs)

# unit.test_osrelease: /etc/os-release (fixture, usr/lib fallback, quoting,
# escapes, UTF-8 cuts, every prefix).
tfo_unit_test(test_osrelease
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/procfs/test_osrelease.c
  LIBS tfo_procfs)
