# tfo_otlp: arena + OTLP ResourceMetrics builder (collector roles).
add_library(tfo_otlp STATIC ${CMAKE_CURRENT_LIST_DIR}/otlp.c)
target_link_libraries(tfo_otlp PUBLIC tfo_base tfo_proto)
