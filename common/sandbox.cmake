# tfo_seccomp: the seccomp profiles and filter builder (common/sandbox_seccomp.c,
# sandbox_profiles.c) on their own, so tfo-procpriv links them without
# protobuf-c, nng or the worker skeleton; its headers need tfo.pb-c.h only
# for types. The test-action hook exists only in TFO_TEST_HOOKS builds.
add_library(tfo_seccomp STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_seccomp.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_profiles.c)
if(TFO_TEST_HOOKS)
  target_sources(tfo_seccomp PRIVATE ${CMAKE_CURRENT_LIST_DIR}/sandbox_testaction.c)
endif()
target_include_directories(tfo_seccomp PUBLIC
  $<TARGET_PROPERTY:tfo_proto,INTERFACE_INCLUDE_DIRECTORIES>)
add_dependencies(tfo_seccomp tfo_proto)
target_link_libraries(tfo_seccomp PUBLIC tfo_base PkgConfig::SECCOMP)
# tfo_sandbox: Landlock + seccomp for workers (common/sandbox*.c), linked by tfo_worker.
add_library(tfo_sandbox STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sandbox.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_landlock.c)
target_link_libraries(tfo_sandbox PUBLIC tfo_seccomp tfo_base tfo_proto PkgConfig::SECCOMP)
