# Static analysis of the Python the tests and benches are written in: an
# unused import or a name used before it is bound (a typo in a check that
# only runs on failure) fails here rather than hiding until that failure.
find_program(PYFLAKES pyflakes3)
if(PYFLAKES)
  add_test(NAME lint.pyflakes
    COMMAND sh -c "find tests bench tools -name '*.py' -not -path '*/node_modules/*' \
                   -exec '${PYFLAKES}' {} +"
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(lint.pyflakes PROPERTIES LABELS lint TIMEOUT 120)
endif()
