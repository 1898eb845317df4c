#!/usr/bin/env bash
# One-time setup on a fresh Debian 12 machine: installs every package
# (apt-get, idempotent) and builds stampede into build/ (release flags).
#   bash tools/setup.sh            # then: build/tools/stampede/stampede demo
# Environment: BUILD_DIR (default build), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-2}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target stampede stampede-target stampede-demo-db -j"$JOBS"
echo "setup: built $BUILD_DIR/tools/stampede/stampede, stampede-target and stampede-demo-db"
