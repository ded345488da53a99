# tfo_hist: duration histograms a role keeps of itself (exporter requests,
# collector cycles), reported as Pong stats and rebuilt by tfo-system.
add_library(tfo_hist STATIC ${CMAKE_CURRENT_LIST_DIR}/hist.c)
