# tests/sandbox/: what each worker cannot do (issue 8). The unit test runs
# in every build; the matrix needs the test hooks (tfoctl test-action relay).
tfo_unit_test(test_sandbox_unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sandbox_unit.c
  LIBS tfo_sandbox tfo_supervisor_core tfo_procpriv_ops)

find_package(Python3 COMPONENTS Interpreter REQUIRED)
if(TFO_TEST_HOOKS)
  foreach(case matrix bad_request)
    add_test(NAME sandbox.${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_sandbox.py
                     ${CMAKE_BINARY_DIR}/bin ${case})
    set_tests_properties(sandbox.${case} PROPERTIES LABELS "sandbox;integration"
      TIMEOUT 300 RUN_SERIAL TRUE)
  endforeach()
endif()
# The same matrix on the gcc release build's executables (with the hooks):
# `make test` builds them in build-hooks/ and passes their bin/ as
# TFO_RELEASE_HOOKS_BIN. The sanitizer build's filters allow what ASan needs
# (clone/exec errno rules, the pinned helper's madvise/munmap), so a role
# whose job needs a call only release refuses dies there, not here.
if(TFO_RELEASE_HOOKS_BIN)
  add_test(NAME sandbox.matrix_release
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_sandbox.py
                   ${TFO_RELEASE_HOOKS_BIN} matrix)
  set_tests_properties(sandbox.matrix_release PROPERTIES LABELS "sandbox;integration"
    TIMEOUT 300 RUN_SERIAL TRUE)
endif()
add_test(NAME sandbox.unit_security
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/unit-security.sh
                 ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(sandbox.unit_security PROPERTIES LABELS "sandbox" TIMEOUT 120)
