#!/usr/bin/env bash
# pipeline_bench.sh: end-to-end throughput, memory and incremental-latency
# benchmark of the stampede binary (SQLite source -> stampede-target on loopback).
#
# Usage: bench/pipeline_bench.sh ROWS BUILD_DIR [options]
#   ROWS       rows in service 19 (CREDITOS_IPTU), e.g. 1000000 or 10000000
#   BUILD_DIR  a Release build dir holding tools/stampede/stampede,
#              tools/target/stampede-target and tools/demogen/stampede-demo-db
# Options (all optional):
#   --workdir DIR        keep data here (default: a fresh mktemp dir, removed at
#                        the end unless --keep). A database erp-ROWS.db already in
#                        DIR is reused (generation of 10M rows takes ~30 s).
#   --keep               do not remove the temp workdir
#   --target-threads N   stampede-target worker threads (default 1)
#   --protocol P         sync_batch (default) | async_batch
#   --poll-interval D    async_batch poll interval (default 5ms)
#   --page-size N        source.page_size (default 5000)
#   --batch-records N    targets.portal.batch_records (default 1000)
#   --in-flight N        targets.portal.in_flight (default 4)
#   --queue-batches N    engine.queue_batches (default 4)
#   --transformers N     engine.transformers (default 2)
#   --lookback D         source.lookback (default: demo.toml's "10m")
#   --changes N          rows changed before the incremental cycle (default 1000)
#   --incr-runs N        incremental cycles to time (default 3)
#   --perf FILE          record the initial load with `perf record -e cpu-clock` (flat) into FILE
#   --threads-out FILE   write per-thread CPU seconds (stampede + target) here
#
# Prints a table: rows/s of the initial load (the cycle's own time, as printed
# by `stampede run --once`, and wall time of the whole process), CPU seconds per
# million rows (stampede user+sys, and target), peak RSS (from /usr/bin/time -v),
# and the incremental cycle time for --changes changed rows.
set -euo pipefail

die() { echo "pipeline_bench: $*" >&2; exit 2; }
[[ $# -ge 2 ]] || die "usage: $0 ROWS BUILD_DIR [--workdir DIR] [--keep] [--target-threads N] ..."
ROWS=$1; BUILD=$(cd "$2" && pwd); shift 2
WORKDIR=""; KEEP=0; TTHREADS=1; PROTOCOL=sync_batch; POLL=5ms; PAGE=5000; BATCH=1000
LOOKBACK=""; INFLIGHT=4; QUEUE=4; TRANSFORMERS=2; CHANGES=1000; INCR_RUNS=3; PERF_OUT=""; THREADS_OUT=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --workdir) WORKDIR=$2; shift 2;;
    --keep) KEEP=1; shift;;
    --target-threads) TTHREADS=$2; shift 2;;
    --protocol) PROTOCOL=$2; shift 2;;
    --poll-interval) POLL=$2; shift 2;;
    --page-size) PAGE=$2; shift 2;;
    --batch-records) BATCH=$2; shift 2;;
    --in-flight) INFLIGHT=$2; shift 2;;
    --queue-batches) QUEUE=$2; shift 2;;
    --transformers) TRANSFORMERS=$2; shift 2;;
    --lookback) LOOKBACK=$2; shift 2;;
    --changes) CHANGES=$2; shift 2;;
    --incr-runs) INCR_RUNS=$2; shift 2;;
    --perf) PERF_OUT=$2; shift 2;;
    --threads-out) THREADS_OUT=$2; shift 2;;
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
  WORKDIR=$(mktemp -d /tmp/pipeline-bench.XXXXXX)
  [[ $KEEP == 1 ]] || CLEAN_WORKDIR=1
fi
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
DB=$WORKDIR/erp-$ROWS.db
STATE=$WORKDIR/state
CFG=$WORKDIR/bench.toml
TARGET_PID=""; SAMPLER_PID=""

cleanup() {
  if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  if [[ -n $TARGET_PID ]]; then kill "$TARGET_PID" 2>/dev/null || true; wait "$TARGET_PID" 2>/dev/null || true; fi
  if [[ ${CLEAN_WORKDIR:-0} == 1 ]]; then rm -rf "$WORKDIR"; fi
}
trap cleanup EXIT

# --- per-thread CPU sampler: every 0.5 s, remember utime+stime per thread ------
# Lines "pid tid comm ticks"; the last sample of each tid is its total.
sample_threads() {
  local out=$1; shift
  while true; do
    for pid in "$@"; do
      [[ -d /proc/$pid ]] || continue
      awk -v pid="$pid" '{
          line=$0; o=index(line,"("); c=0
          for (i=length(line); i>0; i--) if (substr(line,i,1)==")") { c=i; break }
          comm=substr(line,o+1,c-o-1); gsub(/ /,"_",comm)
          n=split(substr(line,c+2),f," ")
          # f[1]=state(field 3) ... utime=field 14 -> f[12], stime=field 15 -> f[13]
          split(FILENAME,p,"/"); print pid, p[5], comm, f[12]+f[13]
        }' /proc/"$pid"/task/*/stat 2>/dev/null || true
    done >> "$out"
    sleep 0.5
  done
}
summarize_threads() {  # $1 = raw file -> per (process, comm) CPU seconds
  local hz; hz=$(getconf CLK_TCK)
  awk -v hz="$hz" '{ last[$1" "$2]=$4; name[$1" "$2]=$3; proc[$1" "$2]=$1 }
    END { for (k in last) { key=proc[k]" "name[k]; sum[key]+=last[k]; cnt[key]++ }
          for (k in sum) printf "%-8s %-22s threads=%-3d cpu_s=%.2f\n", substr(k,1,index(k," ")-1), substr(k,index(k," ")+1), cnt[k], sum[k]/hz }' "$1" | sort -k4 -t= -gr
}

# --- data ----------------------------------------------------------------------
if [[ ! -s $DB ]]; then
  echo "generating $ROWS rows of service 19 into $DB ..." >&2
  t0=$(date +%s.%N)
  "$DEMOGEN" generate --out "$DB" --services 19 --rows "$ROWS" --quiet >&2
  t1=$(date +%s.%N)
  echo "generated in $(echo "$t1 - $t0" | bc) s" >&2
fi
rm -rf "$STATE"

# --- config: demo.toml with the benchmark settings ------------------------------
sed -e "s/^page_size = [0-9]*/page_size = $PAGE/" \
    -e "s/^queue_batches = [0-9]*/queue_batches = $QUEUE/" \
    -e "s/^transformers = [0-9]*/transformers = $TRANSFORMERS/" \
    -e "s/^log_level = .*/log_level = \"warn\"/" \
    -e "s/^listen = \"127.0.0.1:9464\"/listen = \"\"/" \
    -e "s/^protocol = \"async_batch\"/protocol = \"$PROTOCOL\"/" \
    -e "s/^batch_records = [0-9]*/batch_records = $BATCH/" \
    -e "s/^in_flight = [0-9]*/in_flight = $INFLIGHT/" \
    -e "s/^poll_interval = \"[0-9a-z]*\"/poll_interval = \"$POLL\"/" \
    "$SRC/examples/demo.toml" > "$CFG"
if [[ -n $LOOKBACK ]]; then sed -i "s/^lookback = \"[0-9a-z]*\"/lookback = \"$LOOKBACK\"/" "$CFG"; fi

# --- target --------------------------------------------------------------------
rm -f "$WORKDIR/port"
"$TARGET" --listen 127.0.0.1:0 --port-file "$WORKDIR/port" --threads "$TTHREADS" \
  > "$WORKDIR/target.log" 2>&1 &
TARGET_PID=$!
for _ in $(seq 100); do [[ -s $WORKDIR/port ]] && break; sleep 0.05; done
[[ -s $WORKDIR/port ]] || die "target did not start: $(cat "$WORKDIR/target.log")"
export STAMPEDE_DEMO_DB=$DB STAMPEDE_STATE_DIR=$STATE
PORT=$(cat "$WORKDIR/port")
export STAMPEDE_TARGET_URL=http://127.0.0.1:$PORT

target_cpu() {  # user+sys seconds of the target so far
  awk -v hz="$(getconf CLK_TCK)" '{ line=$0; for (i=length(line); i>0; i--) if (substr(line,i,1)==")") { c=i; break }
    split(substr(line,c+2),f," "); printf "%.2f", (f[12]+f[13])/hz }' /proc/"$TARGET_PID"/stat
}

# run_stampede NAME: runs one `stampede run --once` under /usr/bin/time -v,
# sets CYC_ROWS CYC_SECONDS WALL MAXRSS_KB USER SYS and T_CPU (target CPU used).
run_stampede() {
  local name=$1 perf=${2:-}
  local tc0; tc0=$(target_cpu)
  local cmd=("$STAMPEDE" run --once --services 19 -c "$CFG" --progress never)
  if [[ -n $perf ]]; then
    cmd=(perf record -q -e cpu-clock -F 499 -o "$perf" -- "${cmd[@]}")
  fi
  /usr/bin/time -v -o "$WORKDIR/$name.time" "${cmd[@]}" > "$WORKDIR/$name.out" 2> "$WORKDIR/$name.err" &
  local tpid=$!
  if [[ -n $THREADS_OUT && $name == initial ]]; then
    local spid=""
    for _ in $(seq 100); do spid=$(pgrep -n -x stampede -P "$( [[ -n $perf ]] && pgrep -n -P $tpid || echo $tpid)" || true); [[ -n $spid ]] && break; sleep 0.02; done
    rm -f "$WORKDIR/threads.raw"
    sample_threads "$WORKDIR/threads.raw" ${spid:+"$spid"} "$TARGET_PID" &
    SAMPLER_PID=$!
  fi
  local rc=0; wait "$tpid" || rc=$?
  if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; fi
  [[ $rc == 0 ]] || { cat "$WORKDIR/$name.out" "$WORKDIR/$name.err" >&2; die "stampede $name failed (rc $rc)"; }
  local line; line=$(awk '$1 == "19" && $2 == "iptu_credits"' "$WORKDIR/$name.out")
  [[ -n $line ]] || { cat "$WORKDIR/$name.out" >&2; die "no summary line for service 19"; }
  # svc name created updated deleted failed unchanged rows_read seconds rows/s
  # The summary gained a `cancelled` column after `failed`: shift when present.
  local x=0; grep -q '^svc .* cancelled ' "$WORKDIR/$name.out" && x=1
  CYC_ROWS=$(awk -v c=$((8 + x)) '{print $c}' <<<"$line"); CYC_SECONDS=$(awk -v c=$((9 + x)) '{print $c}' <<<"$line")
  CYC_CREATED=$(awk '{print $3}' <<<"$line"); CYC_UPDATED=$(awk '{print $4}' <<<"$line")
  CYC_DELETED=$(awk '{print $5}' <<<"$line"); CYC_FAILED=$(awk '{print $6}' <<<"$line")
  CYC_UNCHANGED=$(awk -v c=$((7 + x)) '{print $c}' <<<"$line")
  MAXRSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORKDIR/$name.time")
  USER=$(awk -F': ' '/User time/ {print $2}' "$WORKDIR/$name.time")
  SYS=$(awk -F': ' '/System time/ {print $2}' "$WORKDIR/$name.time")
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORKDIR/$name.time" |
         awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  T_CPU=$(echo "$(target_cpu) - $tc0" | bc)
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 1. initial load -------------------------------------------------------------
run_stampede initial "$PERF_OUT"
I_ROWS=$CYC_ROWS; I_SEC=$CYC_SECONDS; I_WALL=$WALL; I_RSS=$MAXRSS_KB; I_USER=$USER; I_SYS=$SYS; I_TCPU=$T_CPU
I_FAILED=$CYC_FAILED
[[ $I_ROWS == "$ROWS" ]] || echo "warning: initial load read $I_ROWS rows, expected $ROWS" >&2
[[ $I_FAILED == 0 ]] || echo "warning: $I_FAILED records failed in the initial load" >&2
if [[ -n $THREADS_OUT ]]; then summarize_threads "$WORKDIR/threads.raw" > "$THREADS_OUT"; fi

# --- 2. incremental cycles of CHANGES changed rows ----------------------------------
INCR_LINES=()
for i in $(seq "$INCR_RUNS"); do
  "$DEMOGEN" mutate --db "$DB" --count "$CHANGES" --services 19 --late-share 0 --seed "$i$RANDOM" > /dev/null
  sleep 2.5   # > source.safety_delay (2s): the changed rows must be visible
  run_stampede "incr$i"
  INCR_LINES+=("$(printf '%-5s %8s %8s %8s %8s %9s %8.3f %8.2f %7.1f' "incr$i" "$CYC_ROWS" "$CYC_CREATED" "$CYC_UPDATED" "$CYC_DELETED" "$CYC_UNCHANGED" "$CYC_SECONDS" "$WALL" "$(echo "$MAXRSS_KB/1024" | bc -l)")")
  INCR_SECS+=("$CYC_SECONDS")
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report --------------------------------------------------------------------
rate=$(echo "$I_ROWS / $I_SEC" | bc -l)
wrate=$(echo "$I_ROWS / $I_WALL" | bc -l)
cpu=$(echo "$I_USER + $I_SYS" | bc -l)
cpm=$(echo "$cpu / ($I_ROWS / 1000000)" | bc -l)
tcpm=$(echo "$I_TCPU / ($I_ROWS / 1000000)" | bc -l)
rss=$(echo "$I_RSS / 1024" | bc -l)
best_incr=$(printf '%s\n' "${INCR_SECS[@]}" | sort -g | head -1)
median_incr=$(printf '%s\n' "${INCR_SECS[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
met() { if [[ $(echo "$1" | bc -l) == 1 ]]; then echo met; else echo "NOT met"; fi; }

echo
echo "pipeline_bench: $ROWS rows, service 19; $(nproc) CPUs; load before $LOAD_BEFORE, after $LOAD_AFTER"
echo "settings: lookback=${LOOKBACK:-10m} protocol=$PROTOCOL page_size=$PAGE batch_records=$BATCH in_flight=$INFLIGHT queue_batches=$QUEUE transformers=$TRANSFORMERS target_threads=$TTHREADS"
echo
printf '%-44s %14s %14s %s\n' "figure" "value" "target" "status"
printf '%-44s %14.0f %14s %s\n' "initial load rows/s (cycle time)" "$rate" ">= 400000" "$(met "$rate >= 400000")"
printf '%-44s %14.0f %14s\n' "initial load rows/s (process wall time)" "$wrate" ""
printf '%-44s %14.3f %14s\n' "initial load cycle seconds" "$I_SEC" ""
printf '%-44s %14.2f %14s\n' "initial load process wall seconds" "$I_WALL" ""
printf '%-44s %14.2f %14s\n' "stampede CPU s (user+sys)" "$cpu" ""
printf '%-44s %14.2f %14s\n' "stampede CPU s per million rows" "$cpm" ""
printf '%-44s %14.2f %14s\n' "target CPU s per million rows" "$tcpm" ""
printf '%-44s %14.1f %14s %s\n' "peak RSS MB (initial load)" "$rss" "<= 128" "$(met "$rss <= 128")"
printf '%-44s %14.1f %14s %s\n' "incremental cycle ms, $CHANGES changes (median)" "$(echo "$median_incr*1000" | bc -l)" "<= 100" "$(met "$median_incr <= 0.1")"
printf '%-44s %14.1f %14s\n' "incremental cycle ms (best of $INCR_RUNS)" "$(echo "$best_incr*1000" | bc -l)" ""
echo
printf '%-5s %8s %8s %8s %8s %9s %8s %8s %7s\n' run rows created updated deleted unchanged cycle_s wall_s rss_MB
for l in "${INCR_LINES[@]}"; do echo "$l"; done
if [[ -n $THREADS_OUT ]]; then echo; echo "per-thread CPU (initial load; pid thread-name):"; cat "$THREADS_OUT"; fi
echo "RESULT rows=$ROWS rate=$(printf %.0f "$rate") wall_rate=$(printf %.0f "$wrate") cpu_per_m=$(printf %.2f "$cpm") target_cpu_per_m=$(printf %.2f "$tcpm") rss_mb=$(printf %.1f "$rss") incr_ms_median=$(printf %.1f "$(echo "$median_incr*1000" | bc -l)")"
