# tfo_base: logger, error names and the executable's own directory, linked by everything.
add_library(tfo_base STATIC ${CMAKE_CURRENT_LIST_DIR}/log.c ${CMAKE_CURRENT_LIST_DIR}/err.c
  ${CMAKE_CURRENT_LIST_DIR}/selfdir.c ${CMAKE_CURRENT_LIST_DIR}/thread.c
  ${CMAKE_CURRENT_LIST_DIR}/pagetrim.c ${CMAKE_CURRENT_LIST_DIR}/memtrim.c)
target_link_libraries(tfo_base PUBLIC PkgConfig::LIBEVENT)
