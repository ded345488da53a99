# unit.detect: container / virtualization / cloud detection on fixture trees,
# and the agent id (which reads machine-id/hostname from the same trees).
tfo_unit_test(test_detect
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/detect/test_detect.c
  LIBS tfo_detect)
tfo_unit_test(test_agentid
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/detect/test_agentid.c
  LIBS tfo_agentid)
