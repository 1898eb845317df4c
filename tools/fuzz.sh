#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (built by STAMPEDE_FUZZ=ON, FUZZING.md).
#   bash tools/fuzz.sh                       # every target, FUZZ_SECONDS each
#   bash tools/fuzz.sh -j2 transform config  # two at a time, only these
#   FUZZ_RUNS=10000000 bash tools/fuzz.sh transform   # a long run: 10M executions
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>/) plus
# what earlier runs found ($FUZZ_DIR/fuzz-corpus/<target>/, not committed); a
# crash, leak, timeout (> 10 s per input) or failed check leaves the input in
# $FUZZ_DIR/fuzz-artifacts/ and fails the run (exit 1). The last lines of each
# log give the executions done (FUZZING.md records longer runs).
# Environment: FUZZ_DIR (default build-fuzz), FUZZ_SECONDS (default 60),
#   FUZZ_RUNS (executions per target, default unlimited: then FUZZ_SECONDS bounds).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_RUNS="${FUZZ_RUNS:--1}"
PAR=1
targets=()
for a in "$@"; do
  case "$a" in
    -j*) PAR="${a#-j}" ;;
    *) targets+=("$a") ;;
  esac
done
if [ "${#targets[@]}" -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cpp; do t=$(basename "$f" _fuzz.cpp); targets+=("$t"); done
fi
mkdir -p "$FUZZ_DIR/fuzz-artifacts" "$FUZZ_DIR/fuzz-logs"

run_one() {
  local t="$1" exe="$FUZZ_DIR/tests/fuzz/$1_fuzz" work="$FUZZ_DIR/fuzz-corpus/$1"
  local log="$FUZZ_DIR/fuzz-logs/$t.log" max_time="$FUZZ_SECONDS"
  if [ ! -x "$exe" ]; then echo "fuzz.sh: $exe missing (cmake --build $FUZZ_DIR --target stampede_fuzzers)" >&2; return 1; fi
  [ "$FUZZ_RUNS" != "-1" ] && max_time=0
  mkdir -p "$work"
  local rc=0
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$exe" "$work" "tests/fuzz/corpus/$t" -max_total_time="$max_time" -runs="$FUZZ_RUNS" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$FUZZ_DIR/fuzz-artifacts/$t-" >"$log" 2>&1 || rc=$?
  local runs
  runs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ "$rc" -ne 0 ]; then
    echo "fuzz.sh: $t FAILED (exit $rc), input in $FUZZ_DIR/fuzz-artifacts/$t-*; log $log:"
    grep -v '^#' "$log" | tail -60
    return 1
  fi
  echo "fuzz.sh: $t ok: ${runs:-?} executions, $(grep -c '' <(ls "$work")) inputs in its corpus"
}
export -f run_one
export FUZZ_DIR FUZZ_SECONDS FUZZ_RUNS
printf '%s\n' "${targets[@]}" | xargs -P "$PAR" -I{} bash -c 'run_one {}'
