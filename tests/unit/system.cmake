# unit.test_system: a full tfo-system collection over the fixture root
# (tests/fixtures/proc/host-6.18) with a fake statvfs: names, units,
# instruments, attributes, exact values, two cycles, a stuck NFS statfs.
tfo_unit_test(test_system
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/system/test_system.c ${CMAKE_CURRENT_LIST_DIR}/system/tu.c
  LIBS tfo_system_collect tfo_resource)
# unit.test_system_live: the filesystem family over the live /proc in a mount
# namespace of its own (root): a mount added, remounted or removed between
# cycles is in the next one; the table is read again only on a change.
tfo_unit_test(test_system_live
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/system/test_system_live.c ${CMAKE_CURRENT_LIST_DIR}/system/tu.c
  LIBS tfo_system_collect tfo_resource)
# unit.test_selfmet: the self metrics (workers/system/selfmet.c): docs/metrics.md
# lists exactly the metrics emitted (names, units, instruments, attributes),
# a snapshot's points, start times and histograms, hostile worker stats.
tfo_unit_test(test_selfmet
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/system/test_selfmet.c
  LIBS tfo_system_selfmet)
