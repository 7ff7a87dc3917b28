#!/usr/bin/env bash
# Throwaway PostgreSQL 15 for the local sandbox and manual testing.
#
# Usage: hack/postgres.sh install|up|down|stop|status|env
#   install  apt-get install postgresql-15 if its binaries are missing
#   up       initdb (first time) + start; idempotent (prints env when done)
#   down     stop and delete all state
#   stop     stop, keeping the data (`up` starts the same server again)
#   status   exit 0 if running
#   env      print PGHOST/PGPORT/PGUSER/PGPASSWORD_FILE lines (KEY=value)
#
# env: PGWORK   state dir (default <repo>/.sandbox/postgres)
#      PGPORT   TCP port to use on first `up` (default: a free random port)
#      PG_BIN   PostgreSQL bin dir (default /usr/lib/postgresql/15/bin)
#      PG_OS_USER  OS user that runs the server when invoked as root (default postgres)
#
# Listens on 127.0.0.1 only (scram-sha-256 password auth) plus a unix socket in
# the run dir (trust: the dir is private to the server's OS user and root).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGWORK=${PGWORK:-$ROOT/.sandbox/postgres}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OS_USER=${PG_OS_USER:-postgres}

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

cmd_install() {
  if [[ -x $PG_BIN/initdb ]]; then
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "$PG_BIN/initdb missing; run as root or: apt-get install postgresql-15"
  log "installing postgresql-15 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # The package's postinst may create/start a 'main' cluster; that is harmless here.
  apt-get install -y -qq --no-install-recommends --no-upgrade postgresql-15 >&2
  [[ -x $PG_BIN/initdb ]] || die "postgresql-15 installed but $PG_BIN/initdb is still missing"
}

# Runs a command as the server's OS user: initdb/postgres refuse to run as root.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_os_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    log "creating system user $PG_OS_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
}

# The run dir holds data/, the socket and the server log and must be reachable by
# the server's OS user. A clone under /root (mode 700) is not, and unix socket paths
# are limited to 107 bytes, so fall back to a private dir under /tmp in those cases.
# Its path is remembered in $PGWORK/rundir.
rundir() {
  if [[ -f $PGWORK/rundir ]]; then
    cat "$PGWORK/rundir"
    return
  fi
  local dir=$PGWORK/run
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$PG_OS_USER:" "$dir"
    chmod 700 "$dir"
  fi
  if ((${#dir} > 80)) || ! as_pg test -w "$dir" 2>/dev/null; then
    rmdir "$dir"
    dir=$(mktemp -d /tmp/odoo-operator-pg.XXXXXX)
    [[ $(id -u) -eq 0 ]] && chown "$PG_OS_USER:" "$dir"
  fi
  echo "$dir" >"$PGWORK/rundir"
  echo "$dir"
}

port_in_use() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p _
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    port_in_use "$p" || { echo "$p"; return; }
  done
  die "no free port found"
}

is_running() {
  local run
  [[ -f $PGWORK/rundir ]] || return 1
  run=$(cat "$PGWORK/rundir")
  [[ -f $run/data/postmaster.pid ]] || return 1
  as_pg "$PG_BIN/pg_ctl" -D "$run/data" status >/dev/null 2>&1
}

cmd_env() {
  [[ -f $PGWORK/port ]] || die "not initialised; run: hack/postgres.sh up"
  echo "PGHOST=127.0.0.1"
  echo "PGPORT=$(cat "$PGWORK/port")"
  echo "PGUSER=postgres"
  echo "PGPASSWORD_FILE=$PGWORK/password"
}

cmd_up() {
  cmd_install
  ensure_os_user
  mkdir -p "$PGWORK"
  PGWORK=$(cd "$PGWORK" && pwd)
  if is_running; then
    log "already running on port $(cat "$PGWORK/port")"
    cmd_env
    return 0
  fi
  local run port
  run=$(rundir)
  if [[ ! -f $run/data/PG_VERSION ]]; then
    port=${PGPORT:-$(free_port)}
    echo "$port" >"$PGWORK/port"
    umask 077
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PGWORK/password"
    umask 022
    # initdb reads the password as the server user; hand it a private copy.
    install -m 600 "$PGWORK/password" "$run/pwfile"
    [[ $(id -u) -eq 0 ]] && chown "$PG_OS_USER:" "$run/pwfile"
    log "initdb into $run/data"
    as_pg "$PG_BIN/initdb" -D "$run/data" -U postgres --pwfile="$run/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$PGWORK/initdb.log" 2>&1 ||
      { tail -20 "$PGWORK/initdb.log" >&2; die "initdb failed"; }
    rm -f "$run/pwfile"
    # Settings live in postgresql.auto.conf so that every (re)start uses them.
    # fsync etc. are off: this server holds only disposable test data. Every
    # statement is logged: TestNoCredentialLeaks scans the SQL text.
    cat >>"$run/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$run'
max_connections = 200
fsync = off
full_page_writes = off
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = on
log_statement = 'all'
EOF
  fi
  port=$(cat "$PGWORK/port")
  port_in_use "$port" && die "port $port is already in use (set PGPORT or run: hack/postgres.sh down)"
  log "starting on 127.0.0.1:$port (log: $run/postgres.log)"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$run/data" -l "$run/postgres.log" -w -t 60 start >/dev/null; then
    tail -30 "$run/postgres.log" >&2 || true
    die "postgres did not start"
  fi
  ln -sfn "$run/postgres.log" "$PGWORK/postgres.log"
  cmd_env
}

cmd_down() {
  if [[ -f $PGWORK/rundir ]]; then
    local run
    run=$(cat "$PGWORK/rundir")
    if [[ -f $run/data/postmaster.pid ]]; then
      as_pg "$PG_BIN/pg_ctl" -D "$run/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_pg "$PG_BIN/pg_ctl" -D "$run/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$run"
  fi
  rm -rf "$PGWORK"
  log "down"
}

# stop keeps the data, so `up` starts the same server again (outage tests).
cmd_stop() {
  [[ -f $PGWORK/rundir ]] || die "not initialised"
  local run
  run=$(cat "$PGWORK/rundir")
  as_pg "$PG_BIN/pg_ctl" -D "$run/data" -m fast -w -t 30 stop >/dev/null
  log "stopped (data kept; hack/postgres.sh up starts it again)"
}

cmd_status() {
  if is_running; then
    echo "postgres running on 127.0.0.1:$(cat "$PGWORK/port")"
  else
    echo "postgres not running"
    return 1
  fi
}

case ${1:-} in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|up|down|stop|status|env" >&2; exit 2 ;;
esac
