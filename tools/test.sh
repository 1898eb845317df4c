#!/usr/bin/env bash
# Runs every test stage; CI (.ci/run) runs exactly `bash tools/test.sh`.
#   bash tools/test.sh                  # the default stages: asan, fuzz, tsan
#   bash tools/test.sh -L unit          # extra arguments go to the ASan ctest; with
#                                       # arguments only the asan stage runs (unless
#                                       # STAMPEDE_TEST_STAGES says otherwise)
#   STAMPEDE_TEST_STAGES=fuzz,tsan bash tools/test.sh
# Stages, in this order:
#   asan  ASan+UBSan build (gcc, $BUILD_DIR) of everything; ctest: unit, integration,
#         end to end, and the fuzz corpora replayed (unit.fuzz.*).
#   fuzz  clang libFuzzer build (build-fuzz/): each target of tests/fuzz runs
#         $FUZZ_SECONDS from its committed corpus; a crash fails (FUZZING.md).
#   tsan  ThreadSanitizer build (build-tsan/): the actor tests and the integration
#         tests, linked against libcaf_core built with TSan from Debian's source
#         (tools/caf-tsan.sh, cached in build-tsan/caf/), so TSan sees CAF's
#         synchronisation and checks our actors too; any report fails the test
#         (halt_on_error; tests/tsan.supp lists what is suppressed and why).
# Debug info is line tables only (-g1): sanitizer reports keep file:line, and the
# builds take about a fifth less time than with -g (CI must stay under 30 minutes).
# Every stage prints its wall time; a summary follows at the end.
# Installs missing packages first (apt-get, idempotent).
# Environment: STAMPEDE_TEST_STAGES (default asan,fuzz,tsan, or asan when ctest arguments
#   are given), BUILD_DIR (default build-asan), JOBS (default 2), FUZZ_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${JOBS:-2}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
if [ -n "${STAMPEDE_TEST_STAGES:-}" ]; then
  STAGES="$STAMPEDE_TEST_STAGES"
elif [ "$#" -gt 0 ]; then
  STAGES=asan
else
  STAGES=asan,fuzz,tsan
fi
for s in ${STAGES//,/ }; do
  case "$s" in asan|fuzz|tsan) ;; *)
    echo "test.sh: unknown stage '$s' in STAMPEDE_TEST_STAGES (use asan, fuzz, tsan)" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$STAGES," == *",$1,"* ]]; }

SUMMARY=()
T_ALL=$SECONDS
CURRENT=""
T_STAGE=$SECONDS
begin() { CURRENT="$1"; T_STAGE=$SECONDS; echo "=== test.sh: $1"; }
end() {
  local t=$((SECONDS - T_STAGE))
  SUMMARY+=("$(printf '%-28s %5ds' "$CURRENT" "$t")")
  echo "=== test.sh: $CURRENT: ${t}s"
  CURRENT=""
}
report() {
  local rc=$?
  if [ -n "$CURRENT" ]; then
    SUMMARY+=("$(printf '%-28s %5ds  FAILED' "$CURRENT" $((SECONDS - T_STAGE)))")
  fi
  echo "=== test.sh: wall time per stage"
  printf '  %s\n' "${SUMMARY[@]}"
  printf '  %-28s %5ds  %s\n' total $((SECONDS - T_ALL)) "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")"
}
trap report EXIT

begin "deps"
bash tools/install-deps.sh
end

if wants asan; then
  begin "asan: build"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DSTAMPEDE_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
  cmake --build "$BUILD_DIR" --target stampede_tests -j"$JOBS"
  end
  begin "asan: ctest"
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" --timeout 600 "$@"
  end
fi

if wants fuzz; then
  FUZZ_DIR=build-fuzz
  begin "fuzz: build (clang)"
  cmake -S . -B "$FUZZ_DIR" -DCMAKE_BUILD_TYPE=Debug -DSTAMPEDE_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" >/dev/null
  cmake --build "$FUZZ_DIR" --target stampede_fuzzers -j"$JOBS"
  end
  begin "fuzz: ${FUZZ_SECONDS}s per target"
  FUZZ_DIR="$FUZZ_DIR" FUZZ_SECONDS="$FUZZ_SECONDS" bash tools/fuzz.sh -j"$JOBS"
  end
fi

if wants tsan; then
  TSAN_DIR=build-tsan
  begin "tsan: CAF with TSan"
  CAF_TSAN_LIB="$(JOBS="$JOBS" bash tools/caf-tsan.sh "$TSAN_DIR/caf")"
  end
  begin "tsan: build"
  cmake -S . -B "$TSAN_DIR" -DCMAKE_BUILD_TYPE=Debug -DSTAMPEDE_TSAN=ON \
    -DCAF_CORE_LIBRARY="$CAF_TSAN_LIB" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
  cmake --build "$TSAN_DIR" --target stampede_tsan_tests -j"$JOBS"
  # The tests must load the instrumented CAF (RUNPATH), not Debian's.
  if ! ldd "$TSAN_DIR/tests/test_unit_actors" | grep -qF "=> $CAF_TSAN_LIB"; then
    echo "test.sh: $TSAN_DIR/tests/test_unit_actors does not load $CAF_TSAN_LIB:" >&2
    ldd "$TSAN_DIR/tests/test_unit_actors" | grep caf >&2
    exit 1
  fi
  end
  begin "tsan: ctest (actors, integration)"
  # TSAN_OPTIONS (tests/tsan.supp, halt_on_error) come from each test's
  # ctest ENVIRONMENT (tests/CMakeLists.txt).
  ctest --test-dir "$TSAN_DIR" --output-on-failure -j"$JOBS" --timeout 600 \
    -R '^(unit\.actors\.|integration\.)'
  end
fi
