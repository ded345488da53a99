# Config parser fuzzing: arbitrary bytes into tfo_config_load_string. The
# seeds are copied into the build tree, because libFuzzer writes new inputs
# into its first corpus directory and the source tree must stay clean.
set(TFO_CONFIG_CORPUS ${CMAKE_BINARY_DIR}/fuzz-corpus/config)
file(GLOB TFO_CONFIG_SEEDS ${CMAKE_CURRENT_LIST_DIR}/config/seeds/*.yaml)
file(COPY ${TFO_CONFIG_SEEDS} ${CMAKE_SOURCE_DIR}/configs/tfo-agent.yaml
     ${CMAKE_SOURCE_DIR}/configs/dev.yaml DESTINATION ${TFO_CONFIG_CORPUS})
set(TFO_CONFIG_FUZZ_LIB tfo_config)
if(TFO_FUZZ)
  # libFuzzer needs coverage feedback from the code under test, not only from
  # the harness: a coverage-instrumented copy of the config library.
  get_target_property(TFO_CONFIG_SRCS tfo_config SOURCES)
  add_library(tfo_config_fuzzcov STATIC ${TFO_CONFIG_SRCS})
  target_compile_options(tfo_config_fuzzcov PRIVATE -fsanitize=fuzzer-no-link)
  target_link_libraries(tfo_config_fuzzcov PUBLIC tfo_base tfo_safepath tfo_proto PkgConfig::YAML)
  set(TFO_CONFIG_FUZZ_LIB tfo_config_fuzzcov)
endif()
tfo_fuzz_target(fuzz_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/fuzz_config.c
                LIBS ${TFO_CONFIG_FUZZ_LIB} CORPUS ${TFO_CONFIG_CORPUS})
