# The one logger (common/log.c): one event is one line whatever the text it
# carries (issue 24: a file name with a newline and an ESC sequence forged a
# "seccomp violation" line in supervisor.log).
tfo_unit_test(test_log SOURCES ${CMAKE_CURRENT_LIST_DIR}/log/test_log.c
  LIBS tfo_base PkgConfig::CJSON)
# common/logrepeat.c: a failure met on every attempt is one line and a count.
tfo_unit_test(test_logrepeat SOURCES ${CMAKE_CURRENT_LIST_DIR}/log/test_logrepeat.c
  LIBS tfo_logrepeat tfo_base)
