#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests: its own data directory in a
# fresh temporary directory, listening on 127.0.0.1 only (a free port) and on a
# socket beside its data, with password authentication (scram-sha-256).
#
#   tools/pg-test-server.sh start DIR   # prints PGPORT=<port>; writes DIR/port, DIR/pgdir
#   tools/pg-test-server.sh stop DIR    # fast shutdown, then removes the data
#
# Superuser `stampede`, password `stampede-test` (a test server only), database
# `erp`. Run as root, the server runs as the unprivileged user `nobody`
# (PostgreSQL refuses to run as root), in a directory that user owns under
# ${TMPDIR:-/tmp} (DIR itself may be private to root).
# Needs Debian's postgresql-15 (tools/install-deps.sh installs it).
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$bin/pg_ctl" ]; then
  echo "pg-test-server: $bin/pg_ctl not found; install postgresql-15 (tools/install-deps.sh)" >&2
  exit 1
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
as_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    pg="$(mktemp -d "${TMPDIR:-/tmp}/stampede-pg.XXXXXX")"
    echo "$pg" > "$dir/pgdir"
    if [ "$(id -u)" -eq 0 ]; then
      chown nobody "$pg"
    fi
    chmod 700 "$pg"
    printf 'stampede-test\n' > "$pg/pwfile"
    [ "$(id -u)" -eq 0 ] && chown nobody "$pg/pwfile"
    as_user "$bin/initdb" -D "$pg/data" -U stampede --pwfile="$pg/pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    rm -f "$pg/pwfile"
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
      if as_user "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 30 \
           -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$pg -c fsync=off -c max_connections=50" \
           start > /dev/null 2>&1; then
        echo "$port" > "$dir/port"
        PGPASSWORD=stampede-test "$bin/psql" -h 127.0.0.1 -p "$port" -U stampede -d postgres \
          -qAt -c "CREATE DATABASE erp" > /dev/null
        echo "PGPORT=$port"
        exit 0
      fi
      # The port may be taken: try another one.
      sleep 0.2
    done
    echo "pg-test-server: the server did not start (log: $pg/server.log)" >&2
    tail -20 "$pg/server.log" >&2 || true
    exit 1
    ;;
  stop)
    pg="$(cat "$dir/pgdir" 2>/dev/null || true)"
    if [ -n "$pg" ] && [ -f "$pg/data/postmaster.pid" ]; then
      as_user "$bin/pg_ctl" -D "$pg/data" -m fast -w -t 30 stop > /dev/null 2>&1 || true
    fi
    case "$pg" in
      */stampede-pg.*) rm -rf "$pg" ;;
    esac
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
