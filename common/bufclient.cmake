# tfo_bufclient: the collectors' put client and the exporter's fetch/ack/nack
# client of tfo-buffer (common/bufclient.h).
add_library(tfo_bufclient STATIC ${CMAKE_CURRENT_LIST_DIR}/bufclient.c)
target_link_libraries(tfo_bufclient PUBLIC tfo_ipc tfo_proto tfo_base tfo_nng tfo_payload)
