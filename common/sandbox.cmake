# tfo_sandbox: Landlock + seccomp for workers (common/sandbox*.c), linked by
# tfo_worker. The test-action hook exists only in TFO_TEST_HOOKS builds.
add_library(tfo_sandbox STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sandbox.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_landlock.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_seccomp.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_profiles.c)
if(TFO_TEST_HOOKS)
  target_sources(tfo_sandbox PRIVATE ${CMAKE_CURRENT_LIST_DIR}/sandbox_testaction.c)
endif()
target_link_libraries(tfo_sandbox PUBLIC tfo_base tfo_proto PkgConfig::SECCOMP)
