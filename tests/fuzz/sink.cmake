# tfo-sink decoder fuzz harness; seeds from tests/fuzz/sink/gen_corpus.py.
# The decoder sources (and common/pbwire.c) are compiled into the harness (not linked from
# tfo_sink_decode) so that -fsanitize=fuzzer instruments them for coverage.
tfo_fuzz_target(sink_decode_fuzz
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sink/fuzz_sink_decode.c
          ${CMAKE_SOURCE_DIR}/tools/tfo-sink/decode.c
          ${CMAKE_SOURCE_DIR}/tools/tfo-sink/decode_pb.c
          ${CMAKE_SOURCE_DIR}/tools/tfo-sink/decode_count.c
          ${CMAKE_SOURCE_DIR}/common/pbwire.c
          ${CMAKE_SOURCE_DIR}/tools/tfo-sink/decode_json.c
          ${CMAKE_SOURCE_DIR}/tools/tfo-sink/body.c
  LIBS tfo_proto tfo_base PkgConfig::CJSON PkgConfig::ZLIB m
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/sink/corpus)

# tfo-sink's HTTP head parser and chunked decoder (parse.c, compiled in for
# coverage as above); seeds in sink/parse_corpus: heads and chunked bodies.
tfo_fuzz_target(sink_parse_fuzz
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sink/fuzz_sink_parse.c
          ${CMAKE_SOURCE_DIR}/tools/tfo-sink/parse.c
  LIBS tfo_base
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/sink/parse_corpus)
