#!/usr/bin/env bash
#
# Stop a server started by scripts/ci/start-postgres.sh and remove its temp dir.
#
#   scripts/ci/stop-postgres.sh            # uses $GAMEPIPE_CI_PG_DIR (exported by the start script)
#   scripts/ci/stop-postgres.sh /tmp/gamepipe-ci-pg-XXXXXX
#
# Does nothing (exit 0) when there is nothing to stop. Only deletes directories carrying the
# start script's marker file, so a wrong argument can't remove anything else.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

PG_DIR=${1:-${GAMEPIPE_CI_PG_DIR:-}}
if [[ -z $PG_DIR ]]; then
  ci_log "stop-postgres: GAMEPIPE_CI_PG_DIR is not set and no dir given; nothing to stop"
  exit 0
fi
if [[ ! -d $PG_DIR ]]; then
  ci_log "stop-postgres: $PG_DIR does not exist; nothing to stop"
  exit 0
fi
[[ -f $PG_DIR/.gamepipe-ci-pg ]] || ci_die "$PG_DIR was not created by start-postgres.sh (no marker); refusing to touch it"

BINDIR=$(head -n 1 "$PG_DIR/.gamepipe-ci-pg")
DATA=$PG_DIR/data

pg_run() {
  if [[ $EUID -eq 0 ]]; then
    (cd "$PG_DIR" && runuser -u postgres -- "$@")
  else
    (cd "$PG_DIR" && "$@")
  fi
}

if [[ -f $DATA/postmaster.pid ]]; then
  pid=$(head -n 1 "$DATA/postmaster.pid")
  if ! pg_run "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
    pg_run "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  fi
  # Last resort: kill exactly our postmaster (its children exit with it).
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null || true) == "$DATA" ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  ci_log "   stopped PostgreSQL (pid $pid)"
fi
rm -rf -- "$PG_DIR"
ci_log "   removed $PG_DIR"
