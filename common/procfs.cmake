# tfo_procfs: bounded /proc and /sys text parsers (system, process, heartbeat).
add_library(tfo_procfs STATIC ${CMAKE_CURRENT_LIST_DIR}/procfs.c ${CMAKE_CURRENT_LIST_DIR}/procfs_dev.c)
target_link_libraries(tfo_procfs PUBLIC tfo_base)
