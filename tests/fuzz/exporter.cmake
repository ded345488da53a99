# tfo-exporter response/trailer parsing fuzz harness. wire.c and outcome.c are
# compiled into the harness so that -fsanitize=fuzzer instruments them.
tfo_fuzz_target(exp_response_fuzz
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter/fuzz_exp_response.c
          ${CMAKE_SOURCE_DIR}/workers/exporter/wire.c
          ${CMAKE_SOURCE_DIR}/common/pbwire.c
          ${CMAKE_SOURCE_DIR}/workers/exporter/outcome.c
  LIBS tfo_payload tfo_proto tfo_base PkgConfig::ZLIB
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/exporter/corpus)
