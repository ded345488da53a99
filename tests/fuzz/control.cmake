# Fuzz harness over the supervisor's fd-3 Control and control.ipc CtlRequest
# decoders and their dispatch (tests/fuzz/control/).
tfo_fuzz_target(fuzz_control
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/control/fuzz_control.c
  LIBS tfo_supervisor_core
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/control/corpus)
