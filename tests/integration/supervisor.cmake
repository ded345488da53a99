# Integration tests of tfo-supervisor (run as root): real supervisor, the
# test worker tfo-testworker in every role slot until the real roles exist.
add_executable(tfo-testworker ${CMAKE_CURRENT_LIST_DIR}/supervisor/tfo-testworker.c)
target_link_libraries(tfo-testworker PRIVATE tfo_worker)
