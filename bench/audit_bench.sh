#!/usr/bin/env bash
# audit_bench.sh: cost of `stampede audit` per million rows (wall and CPU
# seconds, peak RSS), on a service whose initial load is complete.
#
# Usage: bench/audit_bench.sh ROWS BUILD_DIR [--workdir DIR] [--keep] [--range-rows N] [--runs N]
#   ROWS       rows in service 19 (CREDITOS_IPTU), e.g. 1000000
#   BUILD_DIR  a Release build dir holding tools/stampede/stampede,
#              tools/target/stampede-target and tools/demogen/stampede-demo-db
#   --workdir DIR   keep data here (a database erp-ROWS.db and a loaded state
#                   in DIR are reused); default a fresh mktemp dir
#   --keep          do not remove the temp workdir
#   --range-rows N  the audit's --range-rows (default 5000)
#   --runs N        audits to time (default 3; the table shows each)
#
# Loads the rows first (sync batches to stampede-target on loopback), then
# times `stampede audit --service 19 --json` under /usr/bin/time -v and
# prints rows, drift, wall s, user+sys s, s per million rows and peak RSS.
set -euo pipefail

die() { echo "audit_bench: $*" >&2; exit 2; }
[[ $# -ge 2 ]] || die "usage: $0 ROWS BUILD_DIR [--workdir DIR] [--keep] [--range-rows N] [--runs N]"
ROWS=$1; BUILD=$(cd "$2" && pwd); shift 2
WORKDIR=""; KEEP=0; RANGE=5000; RUNS=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --workdir) WORKDIR=$2; shift 2;;
    --keep) KEEP=1; shift;;
    --range-rows) RANGE=$2; shift 2;;
    --runs) RUNS=$2; shift 2;;
    *) die "unknown option $1";;
  esac
done
SRC=$(cd "$(dirname "$0")/.." && pwd)
STAMPEDE=$BUILD/tools/stampede/stampede
TARGET=$BUILD/tools/target/stampede-target
DEMOGEN=$BUILD/tools/demogen/stampede-demo-db
for b in "$STAMPEDE" "$TARGET" "$DEMOGEN"; do
  [[ -x $b ]] || die "missing $b: build it with cmake --build $BUILD --target stampede stampede-target stampede-demo-db"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time (Debian package 'time') is needed for peak RSS"
if [[ -z $WORKDIR ]]; then
  WORKDIR=$(mktemp -d /tmp/audit-bench.XXXXXX)
  [[ $KEEP == 1 ]] || CLEAN_WORKDIR=1
fi
mkdir -p "$WORKDIR"; WORKDIR=$(cd "$WORKDIR" && pwd)
DB=$WORKDIR/erp-$ROWS.db; STATE=$WORKDIR/state-$ROWS; CFG=$WORKDIR/bench.toml; TARGET_PID=""
cleanup() {
  if [[ -n $TARGET_PID ]]; then kill "$TARGET_PID" 2>/dev/null || true; wait "$TARGET_PID" 2>/dev/null || true; fi
  if [[ ${CLEAN_WORKDIR:-0} == 1 ]]; then rm -rf "$WORKDIR"; fi
}
trap cleanup EXIT

[[ -s $DB ]] || "$DEMOGEN" generate --out "$DB" --services 19 --rows "$ROWS" --quiet >&2
sed -e "s/^log_level = .*/log_level = \"warn\"/" \
    -e "s/^listen = \"127.0.0.1:9464\"/listen = \"\"/" \
    -e "s/^protocol = \"async_batch\"/protocol = \"sync_batch\"/" \
    "$SRC/examples/demo.toml" > "$CFG"
export STAMPEDE_DEMO_DB=$DB STAMPEDE_STATE_DIR=$STATE
if [[ ! -d $STATE ]]; then
  rm -f "$WORKDIR/port"
  "$TARGET" --listen 127.0.0.1:0 --port-file "$WORKDIR/port" > "$WORKDIR/target.log" 2>&1 &
  TARGET_PID=$!
  for _ in $(seq 100); do [[ -s $WORKDIR/port ]] && break; sleep 0.05; done
  [[ -s $WORKDIR/port ]] || die "target did not start: $(cat "$WORKDIR/target.log")"
  export STAMPEDE_TARGET_URL=http://127.0.0.1:$(cat "$WORKDIR/port")
  echo "loading $ROWS rows ..." >&2
  "$STAMPEDE" run --once --services 19 -c "$CFG" --progress never > "$WORKDIR/load.out" 2>&1 \
    || die "initial load failed: $(tail -5 "$WORKDIR/load.out")"
  kill "$TARGET_PID"; wait "$TARGET_PID" 2>/dev/null || true; TARGET_PID=""
fi

printf "%-6s %10s %7s %8s %9s %12s %10s\n" run rows drift wall_s cpu_s cpu_s/Mrow peak_rss_MB
for i in $(seq "$RUNS"); do
  rc=0
  /usr/bin/time -v -o "$WORKDIR/audit.time" "$STAMPEDE" audit --service 19 --json \
    --range-rows "$RANGE" -c "$CFG" > "$WORKDIR/audit.json" 2> "$WORKDIR/audit.err" || rc=$?
  [[ $rc == 0 || $rc == 4 ]] || die "audit failed (exit $rc): $(cat "$WORKDIR/audit.err")"
  rows=$(grep -o '"source_rows":[0-9]*' "$WORKDIR/audit.json" | cut -d: -f2)
  drift=$(grep -o '"drift":[0-9]*' "$WORKDIR/audit.json" | cut -d: -f2)
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n=split($2,t,":"); s=0; for (j=1;j<=n;j++) s=s*60+t[j]; print s }' "$WORKDIR/audit.time")
  user=$(awk -F': ' '/User time/ {print $2}' "$WORKDIR/audit.time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$WORKDIR/audit.time")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORKDIR/audit.time")
  cpu=$(echo "$user + $sys" | bc)
  printf "%-6s %10s %7s %8.2f %9.2f %12.2f %10.0f\n" "$i" "$rows" "$drift" "$wall" "$cpu" \
    "$(echo "$cpu * 1000000 / $rows" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
