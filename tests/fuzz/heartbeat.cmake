# heartbeat fuzz harnesses: detector parsers (cgroup, mountinfo, containerenv,
# DMI) and cloud metadata replies + small /proc parsers. Sources are compiled
# into the harness so -fsanitize=fuzzer instruments them.
tfo_fuzz_target(detect_fuzz
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/fuzz_detect.c
          ${CMAKE_SOURCE_DIR}/common/detect.c
  LIBS tfo_procfs tfo_base
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/heartbeat/detect-corpus)
tfo_fuzz_target(hb_reply_fuzz
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/heartbeat/fuzz_reply.c
          ${CMAKE_SOURCE_DIR}/workers/exporter/hbcloud.c
          ${CMAKE_SOURCE_DIR}/workers/heartbeat/collect.c
          ${CMAKE_SOURCE_DIR}/workers/heartbeat/collect_io.c
          ${CMAKE_SOURCE_DIR}/workers/heartbeat/payload.c
  LIBS tfo_detect tfo_procfs tfo_base tfo_proto PkgConfig::CJSON PkgConfig::CURL m
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/heartbeat/reply-corpus)
