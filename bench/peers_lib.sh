# Sourced by the bench scripts that run ../shared/peers: installs what the
# peers need when it is missing (apt-get, idempotent), and writes the config
# that points stampede at the sink's port 18082.
#   ensure_peer_packages CALLER [package:path ...]   extra packages checked by a path
#   sink_config DEMO_TOML OUT   DEMO_TOML changed to sync_batch, batches of 1000,
#                               positional results, metrics off, log_level warn
ensure_peer_packages() {
  local caller=$1; shift
  local need=() p
  for p in nginx-light:/usr/sbin/nginx syslog-ng-core:/usr/sbin/syslog-ng sqlite3:/usr/bin/sqlite3 \
           time:/usr/bin/time bc:/usr/bin/bc "$@"; do
    [[ -x ${p#*:} ]] || need+=("${p%%:*}")
  done
  dpkg -s syslog-ng-mod-http >/dev/null 2>&1 || need+=(syslog-ng-mod-http)
  dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)  # compare.sh builds limit.c
  if [[ ${#need[@]} -gt 0 ]]; then
    echo "$caller: installing ${need[*]}" >&2
    local sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

sink_config() {
  sed -e 's/^protocol = "async_batch"/protocol = "sync_batch"/' \
      -e 's/^batch_records = [0-9]*/batch_records = 1000/' \
      -e 's/^key_field = .*/key_field = ""/' \
      -e 's/^log_level = .*/log_level = "warn"/' \
      -e 's/^listen = .*/listen = ""/' \
      "$1" > "$2"
  grep -q '^key_field = ""' "$2" || { echo "$1: no key_field line to make results positional" >&2; return 2; }
}
