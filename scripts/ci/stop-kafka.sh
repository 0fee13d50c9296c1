#!/usr/bin/env bash
#
# Stop a broker started by scripts/ci/start-kafka.sh and remove its temp dir.
#
#   scripts/ci/stop-kafka.sh            # uses $GAMEPIPE_CI_KAFKA_DIR (exported by the start script)
#   scripts/ci/stop-kafka.sh /tmp/gamepipe-ci-kafka-XXXXXX
#
# Does nothing (exit 0) when there is nothing to stop. Only deletes directories carrying the
# start script's marker file, and only signals the process whose command line names that dir,
# so a wrong argument or a recycled pid can't hit anything else.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

KAFKA_DIR=${1:-${GAMEPIPE_CI_KAFKA_DIR:-}}
if [[ -z $KAFKA_DIR ]]; then
  ci_log "stop-kafka: GAMEPIPE_CI_KAFKA_DIR is not set and no dir given; nothing to stop"
  exit 0
fi
if [[ ! -d $KAFKA_DIR ]]; then
  ci_log "stop-kafka: $KAFKA_DIR does not exist; nothing to stop"
  exit 0
fi
[[ -f $KAFKA_DIR/.gamepipe-ci-kafka ]] || ci_die "$KAFKA_DIR was not created by start-kafka.sh (no marker); refusing to touch it"

# Ours: alive, and started with this dir's server.properties.
ours() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$KAFKA_DIR/server.properties"
}

if [[ -f $KAFKA_DIR/kafka.pid ]]; then
  pid=$(head -n 1 "$KAFKA_DIR/kafka.pid")
  if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid"; then
    # A controlled shutdown takes a few seconds; past 20 s, kill it (nothing here is durable).
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 80); do
      ours "$pid" || break
      sleep 0.25
    done
    if ours "$pid"; then
      ci_log "   Kafka (pid $pid) did not stop within 20 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
    ci_log "   stopped Kafka (pid $pid)"
  fi
fi
rm -rf -- "$KAFKA_DIR"
ci_log "   removed $KAFKA_DIR"
