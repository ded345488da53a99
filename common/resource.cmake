# tfo_resource: the OTLP Resource (host.*, os.*, service.*, agent tags) of DESIGN §6.
add_library(tfo_resource STATIC ${CMAKE_CURRENT_LIST_DIR}/resource.c)
target_link_libraries(tfo_resource PUBLIC tfo_otlp tfo_procfs tfo_proto tfo_base)
