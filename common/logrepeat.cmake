# tfo_logrepeat: one log line for a burst of identical messages (any process).
add_library(tfo_logrepeat STATIC ${CMAKE_CURRENT_LIST_DIR}/logrepeat.c)
target_link_libraries(tfo_logrepeat PUBLIC tfo_base)
