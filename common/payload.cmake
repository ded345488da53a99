# tfo_payload: LZ4 payload blocks as the buffer stores and serves them
# (tfo-buffer, tfo-exporter).
add_library(tfo_payload STATIC ${CMAKE_CURRENT_LIST_DIR}/payload.c)
target_link_libraries(tfo_payload PUBLIC tfo_base tfo_proto PkgConfig::LZ4)
