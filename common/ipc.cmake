# tfo_ipc: nng wrappers with peer checks and the validating decode; nng
# started with small thread pools (nnginit.c).
add_library(tfo_ipc STATIC ${CMAKE_CURRENT_LIST_DIR}/ipc.c ${CMAKE_CURRENT_LIST_DIR}/ipcclose.c
  ${CMAKE_CURRENT_LIST_DIR}/nnginit.c)
target_link_libraries(tfo_ipc PUBLIC tfo_base tfo_proto tfo_nng)
