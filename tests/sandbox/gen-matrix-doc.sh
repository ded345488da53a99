#!/bin/sh
# gen-matrix-doc.sh - rewrite the forbidden-action matrix in docs/security.md
# from a real run of the sandbox.matrix test (root, a TFO_TEST_HOOKS build).
# The test compares the doc with every later run on the same kind of kernel
# and build and fails when they differ: the doc cannot drift.
# Usage: tests/sandbox/gen-matrix-doc.sh [BUILD_DIR]   (default build-test)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-test}
exec python3 "$here/test_sandbox.py" "$build/bin" matrix --write-doc
