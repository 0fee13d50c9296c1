#!/usr/bin/env bash
#
# Start a throwaway single-node Apache Kafka (KRaft: one process is broker and controller) for
# gamepipe's tests.
#
#   eval "$(scripts/ci/start-kafka.sh)"     # from any shell
#   source scripts/ci/start-kafka.sh        # from bash; also defines stop_kafka
#   ... npm test ...
#   scripts/ci/stop-kafka.sh                # or: stop_kafka
#
# What it does:
#   - needs Java 17+ and Maven (installs Debian's openjdk-17-jre-headless / maven when absent);
#   - resolves Apache Kafka's official broker jars (org.apache.kafka:kafka_2.13, version in
#     scripts/kafka/pom.xml) from Maven Central into the local Maven repository (~/.m2, so a rerun
#     works offline and starts in seconds) and builds the classpath from them — no tarball;
#   - formats a KRaft log dir in /tmp/gamepipe-ci-kafka-XXXXXX and starts kafka.Kafka with
#     process.roles=broker,controller, listening only on 127.0.0.1 on free ports (broker from
#     39092 up, controller next to it), small heap (-Xmx512m), single-replica internal topics,
#     no initial rebalance delay;
#   - waits until the broker accepts connections and prints on stdout:
#       export GAMEPIPE_TEST_KAFKA_BROKERS='127.0.0.1:<port>'
#       export GAMEPIPE_CI_KAFKA_DIR='/tmp/gamepipe-ci-kafka-XXXXXX'   (what stop-kafka.sh removes)
#   Everything else goes to stderr. The broker log is $GAMEPIPE_CI_KAFKA_DIR/kafka.log.
#   On failure it stops whatever it started, removes the temp dir and exits non-zero.
#
# Optional environment: GAMEPIPE_CI_KAFKA_PORT (first broker port to try, default 39092),
# GAMEPIPE_CI_KAFKA_HEAP (JVM heap options, default "-Xms256m -Xmx512m"),
# JAVA (the java binary, default `java` on PATH).

# Sourced: run this file as a child process (so the caller's shell options stay untouched)
# and export what it prints.
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
  _gamepipe_kafka_env=$(bash "${BASH_SOURCE[0]}") || {
    unset _gamepipe_kafka_env
    return 1
  }
  eval "$_gamepipe_kafka_env"
  unset _gamepipe_kafka_env
  _gamepipe_kafka_stop_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/stop-kafka.sh"
  eval "stop_kafka() { bash '$_gamepipe_kafka_stop_script' \"\$@\"; }"
  unset _gamepipe_kafka_stop_script
  return 0
fi

set -euo pipefail

# stdout is reserved for the export lines (fd 3); everything else goes to stderr.
exec 3>&1 1>&2

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

POM=$(cd "$SCRIPT_DIR/../kafka" && pwd -P)/pom.xml
KAFKA_FIRST_PORT=${GAMEPIPE_CI_KAFKA_PORT:-39092}
# Word-split on purpose: it is a list of JVM options.
read -r -a HEAP_OPTS <<<"${GAMEPIPE_CI_KAFKA_HEAP:--Xms256m -Xmx512m}"
JAVA=${JAVA:-java}

# --- Java 17+ and Maven -------------------------------------------------------------------------
java_major() {
  # `openjdk version "17.0.15" …` / `java version "1.8.0_…"` → 17 / 8
  local v
  v=$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
  [[ -n $v ]] || return 1
  if [[ $v == 1.* ]]; then v=${v#1.}; fi
  printf '%s\n' "${v%%[.-]*}"
}
major=$(java_major 2>/dev/null || true)
if [[ -z $major || $major -lt 17 ]]; then
  ci_log "   Java 17+ not found (${major:+found Java $major}); installing openjdk-17-jre-headless"
  ci_apt_install openjdk-17-jre-headless
  JAVA=java
  major=$(java_major) || ci_die "java still not runnable after installing openjdk-17-jre-headless"
  [[ $major -ge 17 ]] || ci_die "java on PATH is Java $major; Kafka 4 needs Java 17+ (set JAVA=/path/to/java)"
fi
if ! command -v mvn >/dev/null 2>&1; then
  ci_log "   Maven not found; installing maven"
  ci_apt_install maven
fi

KAFKA_DIR=$(mktemp -d /tmp/gamepipe-ci-kafka-XXXXXX)
started_ok=""
on_exit() {
  local rc=$?
  if [[ -z $started_ok ]]; then
    ci_log "error: Kafka provisioning failed (exit $rc)"
    if [[ -s $KAFKA_DIR/kafka.log ]]; then
      ci_log "--- tail of $KAFKA_DIR/kafka.log"
      tail -n 30 "$KAFKA_DIR/kafka.log" >&2 || true
    fi
    if [[ -s $KAFKA_DIR/kafka.out ]]; then
      ci_log "--- tail of $KAFKA_DIR/kafka.out"
      tail -n 30 "$KAFKA_DIR/kafka.out" >&2 || true
    fi
    bash "$SCRIPT_DIR/stop-kafka.sh" "$KAFKA_DIR" || true
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Marker for stop-kafka.sh (it only deletes dirs carrying it).
: >"$KAFKA_DIR/.gamepipe-ci-kafka"

# --- Kafka's jars from Maven Central --------------------------------------------------------------
# build-classpath lists the resolved jars inside ~/.m2: nothing is copied. Offline first (quick,
# and works without a network once cached), then online to download what is missing.
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n 1)
classpath_file=$KAFKA_DIR/classpath.txt
resolve_classpath() {
  mvn -B -q "$@" -f "$POM" dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$classpath_file" </dev/null >"$KAFKA_DIR/mvn.log" 2>&1
}
if resolve_classpath -o; then
  ci_log "   Kafka $kafka_version jars found in the local Maven repository"
else
  ci_log "   resolving Kafka $kafka_version jars from Maven Central (first run only)"
  if ! resolve_classpath; then
    tail -n 30 "$KAFKA_DIR/mvn.log" >&2 || true
    ci_die "mvn dependency:build-classpath failed for $POM"
  fi
fi
CLASSPATH_JARS=$(<"$classpath_file")
[[ $CLASSPATH_JARS == *kafka_2.13-"$kafka_version".jar* ]] || ci_die "classpath from $POM lacks kafka_2.13-$kafka_version.jar"

# --- Configuration --------------------------------------------------------------------------------
cat >"$KAFKA_DIR/log4j2.properties" <<CONF
# Broker logs go to one file in the temp dir (the console stays quiet).
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = info
CONF

write_config() {
  local broker_port=$1 controller_port=$2
  cat >"$KAFKA_DIR/server.properties" <<CONF
# --- gamepipe CI (scripts/ci/start-kafka.sh): one local KRaft node, not durable ---
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
auto.create.topics.enable=true
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start and stop consumers often: join groups at once, and let a killed member's
# session expire quickly (consumers ask for 6 s and up).
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
CONF
}

# A random cluster id: 16 bytes, URL-safe base64 without padding (Kafka's Uuid text form).
cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')

JVM=("$JAVA" "${HEAP_OPTS[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$CLASSPATH_JARS")

# --- Start on free ports; if we lose a race for one (bind fails), move on ----------------------
port=$KAFKA_FIRST_PORT
pid=""
for attempt in 1 2 3 4 5; do
  port=$(ci_free_port "$port")
  controller_port=$(ci_free_port $((port + 1)))
  write_config "$port" "$controller_port"
  rm -rf "$KAFKA_DIR/data" "$KAFKA_DIR/kafka.log" "$KAFKA_DIR/kafka.out"
  if ! "${JVM[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/format.log" 2>&1 3>&-; then
    cat "$KAFKA_DIR/format.log" >&2
    ci_die "kafka-storage format failed"
  fi
  # setsid: the broker outlives this script (and its process group); fd 3 is closed for it, or
  # `$(start-kafka.sh)` would wait for it to exit.
  setsid "${JVM[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" </dev/null >"$KAFKA_DIR/kafka.out" 2>&1 3>&- &
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_DIR/kafka.pid"

  ready=""
  for _ in $(seq 1 240); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if grep -q 'Kafka Server started' "$KAFKA_DIR/kafka.log" 2>/dev/null && ci_port_busy "$port"; then
      ready=1
      break
    fi
    sleep 0.25
  done
  [[ -z $ready ]] || break
  if kill -0 "$pid" 2>/dev/null; then
    ci_die "Kafka on 127.0.0.1:$port did not start within 60 s"
  fi
  if [[ $attempt -lt 5 ]] && grep -qi 'Address already in use' "$KAFKA_DIR/kafka.log" "$KAFKA_DIR/kafka.out" 2>/dev/null; then
    ci_log "   port $port or $controller_port is taken, trying the next ones"
    port=$((controller_port + 1))
    continue
  fi
  ci_die "Kafka exited during start-up"
done

BROKERS="127.0.0.1:$port"
ci_log "   Apache Kafka $kafka_version (KRaft broker+controller, pid $pid) on $BROKERS, controller :$controller_port, data in $KAFKA_DIR"
ci_log "   GAMEPIPE_TEST_KAFKA_BROKERS=$BROKERS"

{
  ci_export GAMEPIPE_TEST_KAFKA_BROKERS "$BROKERS"
  ci_export GAMEPIPE_CI_KAFKA_DIR "$KAFKA_DIR"
} | tee "$KAFKA_DIR/env.sh" >&3
started_ok=1
