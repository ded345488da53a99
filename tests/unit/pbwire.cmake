# unit.pbwire: common/pbwire varints and field headers (golden bytes, protobuf-c
# packing) and its bounded decoder on truncated, overlong and random input.
tfo_unit_test(pbwire
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pbwire/test_pbwire.c
  LIBS tfo_pbwire tfo_proto)
