# tfo_base: logger and error names, linked by everything.
add_library(tfo_base STATIC ${CMAKE_CURRENT_LIST_DIR}/log.c ${CMAKE_CURRENT_LIST_DIR}/err.c)
target_link_libraries(tfo_base PUBLIC PkgConfig::LIBEVENT)
