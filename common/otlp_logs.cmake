# tfo_otlp_logs: encode one OTLP ResourceLogs from log records (tfo-logs).
add_library(tfo_otlp_logs STATIC ${CMAKE_CURRENT_LIST_DIR}/otlp_logs.c)
target_link_libraries(tfo_otlp_logs PUBLIC tfo_pbwire tfo_base tfo_proto)
