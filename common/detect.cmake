# tfo_detect: container / virtualization / cloud-from-DMI detection on a root dir.
add_library(tfo_detect STATIC ${CMAKE_CURRENT_LIST_DIR}/detect.c)
target_link_libraries(tfo_detect PUBLIC tfo_base tfo_procfs)
