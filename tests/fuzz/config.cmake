# Config parser fuzzing: arbitrary bytes into tfo_config_load_string. The
# seeds are copied into the build tree, because libFuzzer writes new inputs
# into its first corpus directory and the source tree must stay clean.
set(TFO_CONFIG_CORPUS ${CMAKE_BINARY_DIR}/fuzz-corpus/config)
file(GLOB TFO_CONFIG_SEEDS ${CMAKE_CURRENT_LIST_DIR}/config/seeds/*.yaml)
file(COPY ${TFO_CONFIG_SEEDS} ${CMAKE_SOURCE_DIR}/configs/tfo-agent.yaml
     ${CMAKE_SOURCE_DIR}/configs/dev.yaml DESTINATION ${TFO_CONFIG_CORPUS})
tfo_fuzz_target(fuzz_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/fuzz_config.c
                LIBS tfo_config CORPUS ${TFO_CONFIG_CORPUS})
