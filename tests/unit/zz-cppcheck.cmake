# Static analysis: cppcheck over every project source of this build (generated
# protobuf-c code excluded). Fails on any finding.
find_program(CPPCHECK cppcheck)
if(CPPCHECK)
  add_test(NAME lint.cppcheck
    COMMAND ${CPPCHECK} --quiet --error-exitcode=1
            --project=${CMAKE_BINARY_DIR}/compile_commands.json
            # cppcheck does not read system headers: give it the libprotobuf-c
            # version the generated headers check for.
            -DPROTOBUF_C_VERSION_NUMBER=1004001 -DPROTOBUF_C_MIN_COMPILER_VERSION=1000000
            --enable=warning,portability --inline-suppr
            --suppress=missingIncludeSystem
            --suppress=*:${CMAKE_BINARY_DIR}/*
            # NULL as a variadic sentinel: glibc defines NULL as ((void *)0),
            # so the pointer-width concern this check raises does not apply.
            --suppress=varFuncNullUB
            --template={file}:{line}: {severity}: {id}: {message}
            -j2
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(lint.cppcheck PROPERTIES LABELS lint TIMEOUT 600)
endif()
