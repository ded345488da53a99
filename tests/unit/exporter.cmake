# tfo-exporter unit tests (issue 6): wire helpers, outcome table + backoff,
# and the pipeline against an in-process libevent HTTP server.
tfo_unit_test(test_exp_wire SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_wire.c
              LIBS tfo_exporter_memsource)
tfo_unit_test(test_exp_outcome SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_outcome.c
              LIBS tfo_exporter_core)
tfo_unit_test(test_exp_ledger SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_ledger.c
              LIBS tfo_exporter_core)
tfo_unit_test(test_exp_pipeline SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_pipeline.c
              ${CMAKE_SOURCE_DIR}/tests/lib/until_settled.c LIBS tfo_exporter_memsource)
if(TARGET tfo_exporter_bufsource)
  tfo_unit_test(test_exp_bufsource SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_bufsource.c
                LIBS tfo_exporter_bufsource tfo_ipc Threads::Threads)
endif()
tfo_unit_test(test_exp_pace SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_pace.c
              LIBS tfo_exporter_core)
tfo_unit_test(test_exp_tlsinit SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/test_exp_tlsinit.c
              LIBS tfo_exporter_core)
