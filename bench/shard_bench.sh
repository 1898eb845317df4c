#!/usr/bin/env bash
# shard_bench.sh: the initial load of service 19 from SQLite into the nginx sink
# that costs almost nothing (../shared/peers/sink.sh, port 18082), as 1, 2 and 4
# shards (`stampede run --once --services 19 --shard k/N`, N processes at once,
# one state dir each under one state.dir), to see what `--shard` buys.
#
# Usage: bench/shard_bench.sh ROWS BUILD_DIR [--shards "1 2 4"] [--rounds R] [--workdir DIR] [--peers DIR]
#   ROWS       rows in service 19 (CREDITOS_IPTU), e.g. 1000000
#   BUILD_DIR  a Release/RelWithDebInfo build dir with tools/stampede/stampede and
#              tools/demogen/stampede-demo-db; its source tree's examples/demo.toml
#              is the config, changed as bench/peers_bench.sh does (sync_batch,
#              batches of 1000, positional results, metrics off, log_level warn)
#   --shards   the values of N to run (default "1 2 4"); N = 1 runs without --shard
#   --rounds   rounds; each runs every N once, in order (default 1)
#   --workdir  keep the database here (default /tmp/shard-bench; erp-ROWS.db is reused)
#   --peers    the peers folder (default ../shared/peers beside the project root)
#   --target URL  another sink instead of the peers' nginx (e.g. a stampede-target
#              started by hand; it must answer batches with results in order);
#              nginx and the peers' packages are then not needed
#
# Prints one line per round and N: wall s (first start to last exit), CPU s
# (user + sys of all N processes), CPU s per shard, rows/s (ROWS / wall),
# rows per CPU second, the largest peak RSS of one process, and checks that the
# shards' delivered counts add up to ROWS. Every shard reads the whole table
# (the filter runs after reading): CPU grows with N by the reading share.
set -euo pipefail
die() { echo "shard_bench: $*" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORKDIR=/tmp/shard-bench
PEERS=$SRC/../shared/peers
SHARDS="1 2 4"
ROUNDS=1
TARGET=""
ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --workdir) WORKDIR=$2; shift 2;;
    --peers) PEERS=$2; shift 2;;
    --shards) SHARDS=$2; shift 2;;
    --rounds) ROUNDS=$2; shift 2;;
    --target) TARGET=$2; shift 2;;
    -h|--help) sed -n '2,25p' "$0"; exit 0;;
    --*) die "unknown option $1 (see --help)";;
    *) ARGS+=("$1"); shift;;
  esac
done
[[ ${#ARGS[@]} -eq 2 ]] || die "usage: $0 ROWS BUILD_DIR (see --help)"
ROWS=${ARGS[0]}
BUILD=$(cd "${ARGS[1]}" && pwd)
EXE=$BUILD/tools/stampede/stampede
[[ -x $EXE ]] || die "missing $EXE: cmake --build $BUILD --target stampede stampede-demo-db"
source "$SRC/bench/peers_lib.sh"
if [[ -z $TARGET ]]; then
  [[ -x $PEERS/sink.sh ]] || die "no sink.sh in $PEERS (pass --peers DIR)"
  ensure_peer_packages shard_bench
fi

mkdir -p "$WORKDIR"; WORKDIR=$(cd "$WORKDIR" && pwd)
DB=$WORKDIR/erp-$ROWS.db
if [[ ! -s $DB ]]; then
  echo "generating $ROWS rows of service 19 into $DB ..." >&2
  "$BUILD/tools/demogen/stampede-demo-db" generate --out "$DB" --services 19 --rows "$ROWS" --quiet >&2
fi
tree=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")
CFG=$WORKDIR/sink.toml
sink_config "$tree/examples/demo.toml" "$CFG" || exit 2

SINK_STARTED=0
if [[ -z $TARGET ]]; then
  TARGET=http://127.0.0.1:18082
  if ! curl -s -o /dev/null -X POST "$TARGET/"; then
    "$PEERS/sink.sh" start; SINK_STARTED=1
  fi
fi
trap '[[ $SINK_STARTED == 1 ]] && "$PEERS/sink.sh" stop' EXIT

LIVE=$(sqlite3 "$DB" "SELECT COUNT(*) FROM CREDITOS_IPTU WHERE D_E_L_E_T_ <> '*'")
echo "machine: $(nproc) cpu, load $(cut -d' ' -f1-3 /proc/loadavg); $ROWS rows ($LIVE live), $BUILD"
for r in $(seq 1 "$ROUNDS"); do
  for n in $SHARDS; do
    state=$WORKDIR/state; rm -rf "$state"
    t0=$(date +%s.%N)
    pids=()
    for ((k = 0; k < n; k++)); do
      flag=(); [[ $n -gt 1 ]] && flag=(--shard "$k/$n")
      STAMPEDE_DEMO_DB=$DB STAMPEDE_STATE_DIR=$state STAMPEDE_TARGET_URL=$TARGET \
        /usr/bin/time -f "%e %U %S %M" -o "$WORKDIR/time-$k.txt" \
        "$EXE" run --once --services 19 "${flag[@]}" -c "$CFG" --progress never \
        > "$WORKDIR/run-$k.log" 2>&1 &
      pids+=($!)
    done
    for ((k = 0; k < n; k++)); do
      wait "${pids[k]}" || die "N=$n shard $k failed: $(tail -5 "$WORKDIR/run-$k.log")"
    done
    t1=$(date +%s.%N)
    delivered=0
    for ((k = 0; k < n; k++)); do
      flag=(); [[ $n -gt 1 ]] && flag=(--shard "$k/$n")
      c=$(STAMPEDE_DEMO_DB=$DB STAMPEDE_STATE_DIR=$state STAMPEDE_TARGET_URL=$TARGET \
          "$EXE" status --json --services 19 "${flag[@]}" -c "$CFG" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["counts"]["success"])')
      delivered=$((delivered + c))
    done
    python3 - "$n" "$t0" "$t1" "$ROWS" "$delivered" "$LIVE" "$WORKDIR" <<'PY'
import sys
n, t0, t1, rows, delivered, live, wd = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
cpu, rss = 0.0, 0
for k in range(n):
    e, u, s, m = open(f"{wd}/time-{k}.txt").read().split()[-4:]
    cpu += float(u) + float(s); rss = max(rss, int(m))
wall = t1 - t0
ok = "ok" if delivered >= live else f"MISSING {live - delivered}"
print(f"shards {n}  wall {wall:6.2f} s  cpu {cpu:6.2f} s  cpu/shard {cpu / n:6.2f} s  "
      f"{rows / wall:9.0f} rows/s  {rows / cpu:9.0f} rows/cpu-s  rss {rss // 1024} MB  "
      f"delivered {delivered} {ok}")
PY
  done
done
