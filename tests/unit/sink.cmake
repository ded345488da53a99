# tfo-sink decoder unit tests (tools/tfo-sink/decode.h).
tfo_unit_test(sink_decode
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sink/test_decode.c
  LIBS tfo_sink_decode tfo_otlp tfo_proto PkgConfig::ZLIB)
