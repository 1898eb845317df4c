#!/usr/bin/env bash
# Installs every Debian 12 package stampede builds, tests and runs with.
# Idempotent; runs as root (or through sudo when not root). Used by tools/setup.sh and .ci/run.
# STAMPEDE_DEPS=build installs only what building needs (deploy/Dockerfile).
set -euo pipefail
# What building needs (STAMPEDE_DEPS=build: only these, e.g. the image's build stage).
PKGS=(
  build-essential cmake ccache pkg-config git
  libcaf-dev librocksdb-dev libsimdjson-dev libcurl4-openssl-dev curl
  prometheus-cpp-dev catch2 libsqlite3-dev sqlite3 libtomlplusplus-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libpq-dev
  libcivetweb-dev  # the web monitor's HTTP server (web/server.cpp)
)
# What the tests need besides (servers they start, a browser, the fuzzers' compiler).
TEST_PKGS=(
  openssl  # a private CA and `openssl s_server` for tls.ca_file
  postgresql-15  # a server each PostgreSQL test run starts (tests/pg_test_server.hpp)
  clang libclang-rt-14-dev  # tools/test.sh fuzz stage: libFuzzer targets (tests/fuzz/)
  chromium  # the web monitor in a real browser (tests/e2e/e2e/web_test.cpp)
  prometheus  # a real Prometheus scrapes a worker; promtool checks the rules (tests/e2e/e2e/prometheus_test.cpp)
)
if [ "${STAMPEDE_DEPS:-all}" != "build" ]; then
  PKGS+=("${TEST_PKGS[@]}")
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
