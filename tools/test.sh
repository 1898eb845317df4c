#!/usr/bin/env bash
# Runs every test (unit, integration, end to end) in an ASan+UBSan build.
#   bash tools/test.sh                 # all tests
#   bash tools/test.sh -L unit         # extra arguments go to ctest
# Installs missing packages first (apt-get, idempotent).
# Environment: BUILD_DIR (default build-asan), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${JOBS:-2}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DSTAMPEDE_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
cmake --build "$BUILD_DIR" --target stampede_tests -j"$JOBS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" --timeout 600 "$@"
