# tfo_agentid: stable agent id (configured / persisted / UUIDv5 / random).
add_library(tfo_agentid STATIC ${CMAKE_CURRENT_LIST_DIR}/agentid.c)
target_link_libraries(tfo_agentid PUBLIC tfo_base tfo_procfs)
