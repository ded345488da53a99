# tfo_safepath: root's trust in paths (O_NOFOLLOW walks, changes through the
# fd): tfo-supervisor, tfoctl, and tfo-buffer's pre-init through tfo_worker.
add_library(tfo_safepath STATIC ${CMAKE_CURRENT_LIST_DIR}/safepath.c)
target_link_libraries(tfo_safepath PUBLIC tfo_base)
