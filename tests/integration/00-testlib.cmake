# Test libraries, named 00- so they exist before the suites that link them:
# tfo_testlib_wspawn runs a real worker over fd 3 as tfo-supervisor would
# (tests/lib/worker_spawn.h; exp_config.h: a tfo-exporter config with the
# defaults test runs share); tfo_testlib_tbuf is the tfo-buffer layer on it
# (tests/integration/buffer/spawn.h). Used by tests, interop drivers, benches.
if(TARGET tfo_worker)
  add_library(tfo_testlib_wspawn STATIC ${CMAKE_SOURCE_DIR}/tests/lib/worker_spawn.c
    ${CMAKE_SOURCE_DIR}/tests/lib/exp_config.c)
  target_link_libraries(tfo_testlib_wspawn PUBLIC tfo_worker)
  add_library(tfo_testlib_tbuf STATIC ${CMAKE_CURRENT_LIST_DIR}/buffer/spawn.c)
  target_link_libraries(tfo_testlib_tbuf PUBLIC tfo_testlib_wspawn)
endif()
