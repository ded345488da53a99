# fuzz.fuzz_privops: both ends of the tfo-process <-> tfo-procpriv contract:
# the helper's request handling (real reads of the live /proc) and
# tfo-process's reply parser, seeded by procpriv/gen_corpus.py.
tfo_fuzz_target(fuzz_privops
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/procpriv/fuzz_privops.c
  LIBS tfo_procpriv_ops tfo_process_collect
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/procpriv/corpus)
