# bench/fleet's harness on 5 agents (issue 20 §2). Both check behaviour only,
# never rates (the 200-agent bench: cmake --build . --target bench-fleet);
# short flush and retry settings keep them to seconds.
#  - integration.fleet.smoke: the sink down then back, a failover endpoint:
#    every agent's data reaches the sink(s) once, every agent catches up after
#    the outage and reaches the second endpoint while the first is down.
#  - integration.fleet.cap: the cap after an outage, attacked. The sink is down
#    from before the agents start, so each cap starts at max_in_flight; logs
#    every 100 ms at one entry a batch make a backlog of ~30 batches an agent,
#    which the exporter before the cap sent in the first interval. Asserts no
#    agent above the cap (counted at the sink from each agent's first arrival:
#    a slow machine only lowers the counts), every agent caught up, every item
#    exactly once.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
# fleet_drive is built by bench/fleet.cmake (bench/ comes after tests/, hence its
# conditions here rather than its target)
if(TARGET tfo-sink AND TARGET tfo-buffer AND TARGET tfo-exporter AND TARGET tfo_testlib_tbuf
   AND TARGET tfo_exporter_memsource)
  set(_fleet ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/bench/fleet/bench_fleet.py
      ${CMAKE_BINARY_DIR}/bin --drive $<TARGET_FILE:fleet_drive> --agents 5
      --flush 1000 --retry-initial 300 --retry-max 1500 --watch 0 --complete-timeout 60 --check)
  add_test(NAME integration.fleet.smoke
           COMMAND ${_fleet} --scenario outage,failover --steady 3 --outage 3
                   --primary-outage 4 --after 30 --failback-wait 0)
  add_test(NAME integration.fleet.cap
           COMMAND ${_fleet} --scenario cap --outage 3 --after 60 --log-records 20
                   --logs-every-ms 100 --batch-max-bytes 1 --max-in-flight 2)
  set_tests_properties(integration.fleet.smoke integration.fleet.cap PROPERTIES
                       LABELS integration TIMEOUT 180)
endif()
