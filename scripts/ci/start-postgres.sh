#!/usr/bin/env bash
#
# Start a throwaway PostgreSQL server for gamepipe's tests.
#
#   eval "$(scripts/ci/start-postgres.sh)"     # from any shell
#   source scripts/ci/start-postgres.sh        # from bash; also defines stop_postgres
#   ... npm test ...
#   scripts/ci/stop-postgres.sh                # or: stop_postgres
#
# What it does:
#   - uses Debian's server binaries under /usr/lib/postgresql/<ver>/bin (newest version);
#     if there are none, runs `apt-get update` + `apt-get install postgresql` (root or sudo);
#   - creates a fresh cluster with initdb in /tmp/gamepipe-ci-pg-XXXXXX (as the `postgres`
#     OS user when run as root, since PostgreSQL refuses to run as root), listening only on
#     127.0.0.1 on a free port (from 55432 up), unix socket in that dir, fsync / synchronous_commit /
#     full_page_writes off, max_connections=200;
#   - creates role gamepipe (password gamepipe) owning database gamepipe_test, checks a
#     password login over TCP, and prints on stdout:
#       export GAMEPIPE_TEST_DATABASE_URL='postgres://gamepipe:gamepipe@127.0.0.1:<port>/gamepipe_test'
#       export GAMEPIPE_CI_PG_DIR='/tmp/gamepipe-ci-pg-XXXXXX'   (what stop-postgres.sh removes)
#   Everything else goes to stderr. The server log is $GAMEPIPE_CI_PG_DIR/postgres.log.
#   On failure it stops whatever it started, removes the temp dir and exits non-zero.
#
# Optional environment: GAMEPIPE_CI_PG_PORT (first port to try, default 55432),
# GAMEPIPE_CI_PG_BINDIR (server bin dir, default newest /usr/lib/postgresql/*/bin).

# Sourced: run this file as a child process (so the caller's shell options stay untouched)
# and export what it prints.
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
  _gamepipe_pg_env=$(bash "${BASH_SOURCE[0]}") || {
    unset _gamepipe_pg_env
    return 1
  }
  eval "$_gamepipe_pg_env"
  unset _gamepipe_pg_env
  _gamepipe_pg_stop_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/stop-postgres.sh"
  eval "stop_postgres() { bash '$_gamepipe_pg_stop_script' \"\$@\"; }"
  unset _gamepipe_pg_stop_script
  return 0
fi

set -euo pipefail

# stdout is reserved for the export lines (fd 3); everything else goes to stderr.
exec 3>&1 1>&2

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

PG_ROLE=gamepipe
PG_PASSWORD=gamepipe
PG_DATABASE=gamepipe_test
PG_FIRST_PORT=${GAMEPIPE_CI_PG_PORT:-55432}

# Don't let a developer's libpq settings redirect the admin commands below.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS PGDATA

pg_find_bindir() {
  local candidates=() c
  for c in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $c ]] && candidates+=("${c%/postgres}")
  done
  ((${#candidates[@]})) || return 1
  printf '%s\n' "${candidates[@]}" | sort -V | tail -n 1
}

BINDIR=${GAMEPIPE_CI_PG_BINDIR:-}
if [[ -z $BINDIR ]]; then
  if ! BINDIR=$(pg_find_bindir); then
    ci_log "   PostgreSQL server not found under /usr/lib/postgresql; installing it"
    ci_apt_install postgresql
    BINDIR=$(pg_find_bindir) || ci_die "apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/postgres"
  fi
fi
[[ -x $BINDIR/postgres && -x $BINDIR/initdb && -x $BINDIR/pg_ctl ]] || ci_die "no PostgreSQL server binaries in $BINDIR"

# Run a PostgreSQL program as the postgres OS user when we are root (the server refuses root),
# from inside the temp dir so it never trips over an unreadable working directory. fd 3 (our
# real stdout) is closed for it: a server inheriting it would keep `$(start-postgres.sh)` waiting.
pg_run() {
  if [[ $EUID -eq 0 ]]; then
    (cd "$PG_DIR" && runuser -u postgres -- "$@") 3>&-
  else
    (cd "$PG_DIR" && "$@") 3>&-
  fi
}

PG_DIR=$(mktemp -d /tmp/gamepipe-ci-pg-XXXXXX)
started_ok=""
on_exit() {
  local rc=$?
  if [[ -z $started_ok ]]; then
    ci_log "error: PostgreSQL provisioning failed (exit $rc)"
    if [[ -s $PG_DIR/postgres.log ]]; then
      ci_log "--- tail of $PG_DIR/postgres.log"
      tail -n 30 "$PG_DIR/postgres.log" >&2 || true
    fi
    bash "$SCRIPT_DIR/stop-postgres.sh" "$PG_DIR" || true
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Marker + bin dir for stop-postgres.sh (it only deletes dirs carrying the marker).
printf '%s\n' "$BINDIR" >"$PG_DIR/.gamepipe-ci-pg"
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || ci_die "running as root but there is no 'postgres' OS user"
  chown postgres: "$PG_DIR"
fi
chmod 700 "$PG_DIR"

ci_log "   $("$BINDIR/postgres" --version) from $BINDIR, data in $PG_DIR"
if ! pg_run "$BINDIR/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C \
  --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1; then
  cat "$PG_DIR/initdb.log" >&2
  ci_die "initdb failed"
fi

cat >>"$PG_DIR/data/postgresql.conf" <<CONF

# --- gamepipe CI (scripts/ci/start-postgres.sh): local-only, fast, not durable ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

# Start on a free port; if we lose a race for it (bind fails), move on to the next one.
port=$PG_FIRST_PORT
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  port=$(ci_free_port "$port")
  printf 'port = %s\n' "$port" >>"$PG_DIR/data/postgresql.conf" # the last setting wins
  rm -f "$PG_DIR/postgres.log"
  if pg_run "$BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null 2>&1; then
    break
  fi
  if [[ $attempt -lt 10 ]] && grep -q 'Address already in use' "$PG_DIR/postgres.log" 2>/dev/null; then
    ci_log "   port $port is taken, trying the next one"
    port=$((port + 1))
    continue
  fi
  ci_die "pg_ctl start failed on port $port"
done

ready=""
for _ in $(seq 1 120); do
  if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
    ready=1
    break
  fi
  sleep 0.5
done
[[ -n $ready ]] || ci_die "PostgreSQL on 127.0.0.1:$port did not become ready"
ci_log "   $("$BINDIR/pg_isready" -h 127.0.0.1 -p "$port")"

pg_run "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$port" -U postgres -d postgres \
  -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" \
  -c "CREATE DATABASE $PG_DATABASE OWNER $PG_ROLE"

URL="postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$port/$PG_DATABASE"
# Prove the URL works the way the tests will use it: TCP + password.
whoami_db=$("$BINDIR/psql" -X -At -v ON_ERROR_STOP=1 -d "$URL" -c 'select current_user || '"'@'"' || current_database()')
ci_log "   connected over TCP as $whoami_db"
ci_log "   GAMEPIPE_TEST_DATABASE_URL=$URL"

{
  ci_export GAMEPIPE_TEST_DATABASE_URL "$URL"
  ci_export GAMEPIPE_CI_PG_DIR "$PG_DIR"
} | tee "$PG_DIR/env.sh" >&3
started_ok=1
