# tests/package: what `cmake --install` (and so the Debian package) puts on a
# host: every installed program answers --version and --help, the man pages
# render without groff warnings and describe every option and verb, and the
# unit, sysusers, tmpfiles, config (0600) and docs are where systemd and the
# documentation say. The package itself under a real systemd: tests/systemd
# (`make test-systemd`).
add_test(NAME package.install
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/install.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(package.install PROPERTIES LABELS package TIMEOUT 120
  SKIP_RETURN_CODE 77)
