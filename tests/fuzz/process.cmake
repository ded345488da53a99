# fuzz.fuzz_process: tfo-process's hostile-text parsers (/proc/<pid> files,
# passwd, redaction) under libFuzzer, seeded from tests/fixtures/proc-pid.
tfo_fuzz_target(fuzz_process
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/process/fuzz_process.c
  LIBS tfo_process_collect
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/process/corpus)
