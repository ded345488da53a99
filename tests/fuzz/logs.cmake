# tfo-logs fuzz harness: line framing + UTF-8 repair + severity + multiline.
tfo_fuzz_target(fuzz_logs_lines
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/logs/fuzz_lines.c
  LIBS tfo_logs_tail
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/logs/corpus)
