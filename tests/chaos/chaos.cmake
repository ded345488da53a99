# tests/chaos - loss accounting under faults with the whole process tree
# (tfo-supervisor, every worker, tools/tfo-sink), as root; skipped otherwise.
# logs_chaos.py: rotations, kill -9 of each data-path worker, of the supervisor
# alone and of the whole tree, a graceful restart, a sink outage and
# --fail-first; asserts 0 lines lost and duplicates only from exports in flight
# (per kind of event). `logs_chaos.py BINDIR --long` is the 120 s probe.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
if(TARGET tfo-supervisor AND TARGET tfoctl AND TARGET tfo-sink AND TARGET tfo-logs
   AND TARGET tfo-buffer AND TARGET tfo-exporter AND TARGET tfo-system
   AND TARGET tfo-process AND TARGET tfo-heartbeat)
  add_test(NAME chaos.logs
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/logs_chaos.py
                   ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(chaos.logs PROPERTIES
    LABELS "chaos;integration" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
