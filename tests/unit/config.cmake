# Config loader: bad inputs (exact diagnostics), good inputs, the generated
# example/reference, and the WorkerConfig hand-off.
tfo_unit_test(config_bad SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/test_config_bad.c LIBS tfo_config)
tfo_unit_test(config_good SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/test_config_good.c LIBS tfo_config)
tfo_unit_test(config_doc SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/test_config_doc.c LIBS tfo_config)
tfo_unit_test(config_worker SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/test_config_worker.c LIBS tfo_config)
