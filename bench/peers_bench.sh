#!/usr/bin/env bash
# peers_bench.sh: the initial load of service 19 from SQLite into the nginx sink
# that costs almost nothing (../shared/peers/sink.sh, port 18082), side by side
# with the two references of ../shared/peers/compare.sh in the same run: the
# single-thread limit (limit.c) and the sqlite3 | syslog-ng http() pipeline.
#
# Usage: bench/peers_bench.sh ROWS ROUNDS BUILD_DIR [BUILD_DIR...] [--workdir DIR] [--peers DIR]
#   ROWS       rows in service 19 (CREDITOS_IPTU), e.g. 1000000
#   ROUNDS     rounds; each round runs compare.sh once per BUILD_DIR, in order,
#              so two build dirs (before, after) are interleaved within a round
#   BUILD_DIR  a Release build dir with tools/stampede/stampede and
#              tools/demogen/stampede-demo-db; its own source tree's
#              examples/demo.toml is the config (an older binary gets the config
#              it knows), changed to sync_batch, batches of 1000, positional
#              results, metrics off, log_level warn
#   --workdir  keep the database here (default /tmp/peers-bench; erp-ROWS.db is reused)
#   --peers    the peers folder (default ../shared/peers beside the project root)
#
# Installs what compare.sh needs when missing (nginx-light, syslog-ng-core,
# syslog-ng-mod-http, sqlite3, libsqlite3-dev, time, bc). Prints compare.sh's
# lines per round and build, then one summary line per build: median wall s and
# the median ratios exporter speed / limit and / syslog-ng.
set -euo pipefail
die() { echo "peers_bench: $*" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORKDIR=/tmp/peers-bench
PEERS=$SRC/../shared/peers
ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --workdir) WORKDIR=$2; shift 2;;
    --peers) PEERS=$2; shift 2;;
    -h|--help) sed -n '2,22p' "$0"; exit 0;;
    --*) die "unknown option $1 (see --help)";;
    *) ARGS+=("$1"); shift;;
  esac
done
[[ ${#ARGS[@]} -ge 3 ]] || die "usage: $0 ROWS ROUNDS BUILD_DIR [BUILD_DIR...] (see --help)"
ROWS=${ARGS[0]}; ROUNDS=${ARGS[1]}; BUILDS=("${ARGS[@]:2}")
[[ -x $PEERS/compare.sh ]] || die "no compare.sh in $PEERS (pass --peers DIR)"

source "$SRC/bench/peers_lib.sh"
ensure_peer_packages peers_bench

mkdir -p "$WORKDIR"; WORKDIR=$(cd "$WORKDIR" && pwd)
DB=$WORKDIR/erp-$ROWS.db
first=$(cd "${BUILDS[0]}" && pwd)
if [[ ! -s $DB ]]; then
  echo "generating $ROWS rows of service 19 into $DB ..." >&2
  "$first/tools/demogen/stampede-demo-db" generate --out "$DB" --services 19 --rows "$ROWS" --quiet >&2
fi

declare -a NAMES CMDS
i=0
for b in "${BUILDS[@]}"; do
  b=$(cd "$b" && pwd)
  exe=$b/tools/stampede/stampede
  [[ -x $exe ]] || die "missing $exe: cmake --build $b --target stampede stampede-demo-db"
  tree=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$b/CMakeCache.txt")
  [[ -f $tree/examples/demo.toml ]] || die "no examples/demo.toml in $tree (source of $b)"
  cfg=$WORKDIR/sink-$i.toml
  sink_config "$tree/examples/demo.toml" "$cfg" || exit 2
  NAMES[i]="$(basename "$(dirname "$b")")/$(basename "$b")"
  CMDS[i]="rm -rf '$WORKDIR/state-$i' && STAMPEDE_DEMO_DB='$DB' STAMPEDE_STATE_DIR='$WORKDIR/state-$i' \
STAMPEDE_TARGET_URL=http://127.0.0.1:18082 '$exe' run --once --services 19 -c '$cfg' --progress never"
  i=$((i + 1))
done

echo "machine: $(nproc) cpu, load $(cut -d' ' -f1-3 /proc/loadavg); $ROWS rows, $ROUNDS round(s)"
out=$WORKDIR/results.txt; : > "$out"
for r in $(seq 1 "$ROUNDS"); do
  for j in "${!CMDS[@]}"; do
    echo "--- round $r: ${NAMES[j]}"
    "$PEERS/compare.sh" "$DB" CREDITOS_IPTU 1 -- sh -c "${CMDS[j]}" | tee "$WORKDIR/round.txt"
    grep -q '^exporter FAILED' "$WORKDIR/round.txt" && die "${NAMES[j]} failed (see above)"
    awk -v n="${NAMES[j]}" '/^(exporter|limit|syslogng) +wall/ { print n, $1, $3, $6, $9 }' \
      "$WORKDIR/round.txt" >> "$out"
  done
done
echo "=== summary (medians over rounds; speed ratio = reference wall / exporter wall)"
python3 - "$out" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
builds = []
for b, *_ in rows:
    if b not in builds: builds.append(b)
for b in builds:
    t = {}
    for bb, who, wall, cpu, rss in rows:
        if bb == b: t.setdefault(who, []).append((float(wall), float(cpu), int(rss)))
    ex = t["exporter"]
    rl = [l[0] / e[0] for e, l in zip(ex, t["limit"])]
    rs = [s[0] / e[0] for e, s in zip(ex, t["syslogng"])]
    print("%-28s wall %.2f s  cpu %.2f s  rss %d MB  speed/limit %.2f  speed/syslog-ng %.2f" % (
        b, statistics.median(x[0] for x in ex), statistics.median(x[1] for x in ex),
        max(x[2] for x in ex), statistics.median(rl), statistics.median(rs)))
PY
