# tfo_pbwire: protobuf wire-format varints, tags, length-delimited headers and
# the bounded field decoder (tfo-logs, tfo-exporter, tfo-sink).
add_library(tfo_pbwire STATIC ${CMAKE_CURRENT_LIST_DIR}/pbwire.c)
target_link_libraries(tfo_pbwire PUBLIC tfo_base)
