# Whole-tree integration tests (tests/integration/e2e/): the real tfo-supervisor
# with the real workers and tools/tfo-sink on 127.0.0.1, temp dirs, as root
# (skipped otherwise). Helpers shared with tests/chaos and the benches live in
# tests/lib/tfo_e2e.py. See docs/testing.md.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(TFO_E2E_TARGETS tfo-supervisor tfoctl tfo-sink tfo-system tfo-process tfo-logs
    tfo-buffer tfo-exporter tfo-heartbeat)
set(TFO_E2E_READY TRUE)
foreach(t ${TFO_E2E_TARGETS})
  if(NOT TARGET ${t})
    set(TFO_E2E_READY FALSE)
  endif()
endforeach()

if(TFO_E2E_READY)
  # `make run`: tools/run-dev on a copy of configs/dev.yaml (port changed).
  add_test(NAME integration.e2e.make_run
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_make_run.py
                   ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(integration.e2e.make_run PROPERTIES
    LABELS "integration;e2e" TIMEOUT 120 SKIP_RETURN_CODE 77)

  # A stop delivers what was collected before it (issue 16 §1): sink up, sink
  # down at the stop (then a restart), sink stalled during the drain.
  foreach(case up down slow)
    add_test(NAME integration.e2e.stop.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_stop.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.e2e.stop.${case} PROPERTIES
      LABELS "integration;e2e" TIMEOUT 120 SKIP_RETURN_CODE 77)
  endforeach()

  # system (1 s) -> buffer -> exporter -> far end: every family's names, units,
  # attributes; monotonic cumulative sums; service.instance.id = agent id.
  add_test(NAME integration.e2e.metrics.http
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_metrics.py
                   ${CMAKE_BINARY_DIR}/bin http)
  set_tests_properties(integration.e2e.metrics.http PROPERTIES
    LABELS "integration;e2e" TIMEOUT 120 SKIP_RETURN_CODE 77)
  # issue 20 §1: the self metrics at tfo-sink: every documented metric and no
  # other, restarts, a forced drop, forced permanent / retryable failures;
  # issue 18 §3: self metrics ride a cycle's put, each snapshot once.
  foreach(case catalogue drop permanent retryable ride)
    add_test(NAME integration.e2e.selfmet.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_selfmet.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.e2e.selfmet.${case} PROPERTIES
      LABELS "integration;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
  # issue 18 §3: an idle agent's ack rides on the next flush's Fetch (one
  # export request a batch), and a log line put while the logs are quiet is
  # not stranded (each once across a stop).
  foreach(case requests stranded)
    add_test(NAME integration.e2e.idle_export.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_idle_export.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.e2e.idle_export.${case} PROPERTIES
      LABELS "integration;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
  # issue 23: SIGTERM stop + start x5, a stop with the receiver down, kill -9 of
  # the supervisor x5, one state dir, a steady writer: every line once.
  add_test(NAME integration.e2e.restart
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_restart.py
                   ${CMAKE_BINARY_DIR}/bin --gap 2)
  set_tests_properties(integration.e2e.restart PROPERTIES
    LABELS "integration;e2e" TIMEOUT 240 SKIP_RETURN_CODE 77)
  # The restarts outside probes vary: SIGTERM before the workers are ready,
  # SIGTERM and kill -9 of the whole tree while catching up after an outage.
  foreach(case early catchup kill_catchup)
    add_test(NAME integration.e2e.restart_vary.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_restart_vary.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.e2e.restart_vary.${case} PROPERTIES
      LABELS "integration;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
  # A collector endpoint that hangs, answers a byte a second, resets, or
  # answers after the timeout, under load: no hot loop, the cause in tfoctl
  # status, a SIGTERM during it within the stop bound, every line once
  # (late: at most 3 windows again: a timeout stretches the next requests).
  foreach(case hang loris reset late)
    add_test(NAME integration.e2e.endpoint_hang.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_endpoint_hang.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(integration.e2e.endpoint_hang.${case} PROPERTIES
      LABELS "integration;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
  # An upgrade under load: the binaries replaced as dpkg does (write, rename
  # over), kill -9 of two workers (respawned from the new files), SIGTERM and
  # a start: every line once, duplicates only from the exporter's kill.
  # Test builds only (TFO_WORKER_DIR).
  if(TFO_TEST_HOOKS)
    add_test(NAME integration.e2e.upgrade
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_upgrade.py
                     ${CMAKE_BINARY_DIR}/bin)
    set_tests_properties(integration.e2e.upgrade PROPERTIES
      LABELS "integration;e2e" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endif()
  # issue 23 items 6-10: the buffer at a full disk, on a 16 MiB tmpfs the test
  # mounts (skipped, saying why, where it may not): a) the buffer fills it with
  # the receiver down, the receiver returns while full; b) another process
  # fills it and a compaction runs while full (LevelDB's sticky error).
  foreach(c a b)
    add_test(NAME integration.e2e.diskfull.${c}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_diskfull.py
                     ${CMAKE_BINARY_DIR}/bin ${c})
    set_tests_properties(integration.e2e.diskfull.${c} PROPERTIES
      LABELS "integration;e2e;buffer" TIMEOUT 240 SKIP_RETURN_CODE 77)
  endforeach()
  # A restart while the disk is full, kept full by a greedy filler: every run
  # comes up (the buffer waits for room to open its store), every line arrives.
  add_test(NAME integration.e2e.diskfull.restart
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_diskfull_restart.py
                   ${CMAKE_BINARY_DIR}/bin --greedy)
  set_tests_properties(integration.e2e.diskfull.restart PROPERTIES
    LABELS "integration;e2e;buffer" TIMEOUT 180 SKIP_RETURN_CODE 77)
  # A disk that stalls (slowfs, a FUSE passthrough with slow syncs): the
  # buffer's loop blocked in fdatasync is not killed as hung; nothing lost.
  pkg_check_modules(FUSE3 REQUIRED IMPORTED_TARGET fuse3)
  add_executable(slowfs ${CMAKE_CURRENT_LIST_DIR}/e2e/slowfs.c)
  target_link_libraries(slowfs PRIVATE PkgConfig::FUSE3)
  set_target_properties(slowfs PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  foreach(case stall stop start)
    add_test(NAME integration.e2e.slowdisk.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_slowdisk.py
                     ${CMAKE_BINARY_DIR}/bin $<TARGET_FILE:slowfs> ${case})
    set_tests_properties(integration.e2e.slowdisk.${case} PROPERTIES
      LABELS "integration;e2e;buffer;supervisor" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
  # The gRPC far end is the Node receiver of tests/interop (its npm fixture).
  find_program(TFO_NODE node)
  if(TFO_NODE)
    add_test(NAME integration.e2e.metrics.grpc
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e/test_metrics.py
                     ${CMAKE_BINARY_DIR}/bin grpc)
    set_tests_properties(integration.e2e.metrics.grpc PROPERTIES
      LABELS "integration;e2e;interop" TIMEOUT 120 SKIP_RETURN_CODE 77
      FIXTURES_REQUIRED exporter_npm)
  endif()
endif()
