# tfo_procfs_pid: bounded parsers of /proc/<pid>/{stat,status,io,cmdline,cgroup}
# (tfo-process); the shared readers and /proc/<pid>/stat state letter stay in tfo_procfs.
add_library(tfo_procfs_pid STATIC ${CMAKE_CURRENT_LIST_DIR}/procfs_pid.c)
target_link_libraries(tfo_procfs_pid PUBLIC tfo_procfs tfo_base)
