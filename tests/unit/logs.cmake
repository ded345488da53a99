# tfo-logs unit tests (issue 10): framing, UTF-8, severity, multiline, OTLP
# encoding, and the tailer on real temp files with a fake buffer sink.
add_library(tfo_logs_fakesink STATIC ${CMAKE_CURRENT_LIST_DIR}/logs/fakesink.c)
target_link_libraries(tfo_logs_fakesink PUBLIC tfo_logs_tail)
tfo_unit_test(test_logs_lines SOURCES ${CMAKE_CURRENT_LIST_DIR}/logs/test_lines.c
              LIBS tfo_logs_tail)
tfo_unit_test(test_logs_multiline SOURCES ${CMAKE_CURRENT_LIST_DIR}/logs/test_multiline.c
              LIBS tfo_logs_tail)
tfo_unit_test(test_otlp_logs SOURCES ${CMAKE_CURRENT_LIST_DIR}/logs/test_otlp_logs.c
              LIBS tfo_otlp_logs)
tfo_unit_test(test_logs_tailer SOURCES ${CMAKE_CURRENT_LIST_DIR}/logs/test_tailer.c
              LIBS tfo_logs_fakesink)
