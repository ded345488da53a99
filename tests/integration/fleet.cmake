# bench/fleet's harness on 5 agents (issue 20 §2): the sink down then back, a
# failover endpoint. It checks behaviour only: every
# agent's data reaches the sink(s) once, every agent catches up after the
# outage and reaches the second endpoint while the first is down. The rates
# are printed, never asserted (the 200-agent bench: cmake --build . --target
# bench-fleet). Short flush and retry settings keep it to about 20 seconds.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
# fleet_drive is built by bench/fleet.cmake (bench/ comes after tests/, hence its
# conditions here rather than its target)
if(TARGET tfo-sink AND TARGET tfo-buffer AND TARGET tfo-exporter AND TARGET tfo_testlib_tbuf
   AND TARGET tfo_exporter_memsource)
  add_test(NAME integration.fleet.smoke
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/bench/fleet/bench_fleet.py
                   ${CMAKE_BINARY_DIR}/bin --drive $<TARGET_FILE:fleet_drive> --agents 5 --scenario outage,failover
                   --flush 1000 --retry-initial 300 --retry-max 1500
                   --steady 3 --outage 3 --primary-outage 4 --watch 0 --after 30
                   --failback-wait 0 --complete-timeout 60 --check)
  set_tests_properties(integration.fleet.smoke PROPERTIES LABELS integration TIMEOUT 180)
endif()
