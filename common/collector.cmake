# tfo_collector: the periodic loop of the metric collectors (system, process).
add_library(tfo_collector STATIC ${CMAKE_CURRENT_LIST_DIR}/collector.c)
target_link_libraries(tfo_collector PUBLIC tfo_bufclient tfo_worker tfo_logrepeat tfo_base)
