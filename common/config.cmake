# tfo_config: the table-driven YAML configuration (supervisor and tfoctl).
add_library(tfo_config STATIC
  ${CMAKE_CURRENT_LIST_DIR}/config.c
  ${CMAKE_CURRENT_LIST_DIR}/config_table.c
  ${CMAKE_CURRENT_LIST_DIR}/config_value.c
  ${CMAKE_CURRENT_LIST_DIR}/config_yaml.c
  ${CMAKE_CURRENT_LIST_DIR}/config_worker.c
  ${CMAKE_CURRENT_LIST_DIR}/config_doc.c
  ${CMAKE_CURRENT_LIST_DIR}/config_host.c
  ${CMAKE_CURRENT_LIST_DIR}/config_man.c)
target_link_libraries(tfo_config PUBLIC tfo_base tfo_safepath tfo_proto PkgConfig::YAML)
