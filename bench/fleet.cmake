# bench/fleet: N real agents (tfo-buffer + tfo-exporter pairs fed by one
# synthetic writer, fleet_drive) against one tfo-sink: request rate at the sink
# (peak, mean, peak/mean) and time to drain when all start at once, after a
# 5-minute outage, and with a failover endpoint (docs/exporter.md, Fleet).
# As root, on a Release build, when the machine is quiet. Never run by ctest
# (tests/integration/fleet.cmake runs a 5-agent smoke of the same harness).
# Run: cmake --build <build> --target bench-fleet
#   (or bench/fleet/bench_fleet.py <build>/bin [--agents N] [--scenario ...])
if(TARGET tfo_testlib_tbuf AND TARGET tfo_exporter_memsource)
  add_executable(fleet_drive ${CMAKE_CURRENT_LIST_DIR}/fleet/fleet_drive.c)
  target_link_libraries(fleet_drive PRIVATE tfo_testlib_tbuf tfo_bufclient
    tfo_exporter_memsource)
  set_target_properties(fleet_drive PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  add_custom_target(bench-fleet
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/fleet/bench_fleet.py
            ${CMAKE_BINARY_DIR}/bin --drive $<TARGET_FILE:fleet_drive>
    DEPENDS fleet_drive tfo-sink tfo-buffer tfo-exporter
    USES_TERMINAL)
endif()
