# fuzz.procfs_<family>: one libFuzzer harness per family of /proc and /sys
# parsers (common/procfs), seeded from tests/fixtures/proc.
foreach(fam stat keyval nums disk net mounts cpuinfo task)
  string(TOUPPER ${fam} FAM)
  tfo_fuzz_target(fuzz_procfs_${fam}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/procfs/fuzz_procfs.c
    LIBS tfo_procfs
    CORPUS ${CMAKE_CURRENT_LIST_DIR}/procfs/corpus/${fam})
  target_compile_definitions(fuzz_procfs_${fam} PRIVATE FUZZ_FAMILY=FAM_${FAM})
endforeach()
