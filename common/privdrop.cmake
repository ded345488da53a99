# tfo_privdrop: the identity drop (rlimits, uid change keeping capabilities,
# proof, pdeathsig, no_new_privs), for the worker skeleton and tfo-procpriv.
add_library(tfo_privdrop STATIC ${CMAKE_CURRENT_LIST_DIR}/privdrop.c)
target_link_libraries(tfo_privdrop PUBLIC PkgConfig::CAPNG)
