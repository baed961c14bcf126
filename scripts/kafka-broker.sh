#!/usr/bin/env bash
# A real Apache Kafka broker for development and tests, without Docker.
#
# The broker's jars come from Maven Central (scripts/kafka/pom.xml) and are cached outside the
# project, so only the first run on a machine downloads anything. The broker is ONE combined
# broker+controller KRaft node listening on 127.0.0.1 only.
#
# Usage:
#   scripts/kafka-broker.sh start  [--fresh] [--port N] [--dir D]
#   scripts/kafka-broker.sh stop   [--port N] [--dir D]
#   scripts/kafka-broker.sh status [--port N] [--dir D]   (exit 0 when running, 3 when not)
#   scripts/kafka-broker.sh install                       (only fetch the classpath)
#
#   --port N   client port (default 9092); the KRaft controller uses N+1.
#   --dir D    data directory (default ./data/kafka-broker, or ./data/kafka-broker-N for another
#              port; relative to the project root). Holds server.properties, the log4j2 config,
#              the partition data (data/), the broker log (logs/server.log) and broker.pid.
#   --fresh    wipe D first (stopping a broker that still runs from it). Without it a restart
#              keeps topics and committed offsets.
#
# Environment:
#   KAFKA_CACHE_DIR      where the jars go (default ${XDG_CACHE_HOME:-$HOME/.cache}/k8s-expenses/kafka-<version>)
#   KAFKA_HEAP_OPTS      JVM heap flags (default -Xmx512m -Xms256m)
#   KAFKA_START_TIMEOUT  seconds to wait for the broker to accept connections (default 90)
#   KAFKA_STOP_TIMEOUT   seconds to wait for a clean shutdown before SIGKILL (default 30)
#   JAVA_HOME            JDK to use (default: java on PATH); JDK 17 is expected.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"

# The POM is the single place that names the Kafka version.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n 1)"
CACHE_DIR="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-expenses/kafka-$KAFKA_VERSION}"
# Written last by install_classpath; holds a hash of the POM so that editing the POM re-resolves.
MARKER="$CACHE_DIR/.complete"

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

DEFAULT_PORT=9092
PORT="$DEFAULT_PORT"
DIR=""
FRESH=0

log() { printf 'kafka-broker: %s\n' "$*"; }
die() { printf 'kafka-broker: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '8,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

parse_args() {
  while (($#)); do
    case "$1" in
      --fresh) FRESH=1 ;;
      --port)
        [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--port needs a number"
        PORT="$2"; shift ;;
      --port=*) PORT="${1#--port=}" ;;
      --dir)
        [[ $# -ge 2 ]] || die "--dir needs a path"
        DIR="$2"; shift ;;
      --dir=*) DIR="${1#--dir=}" ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65535)) || die "bad port: $PORT"

  if [[ -z "$DIR" ]]; then
    # Brokers on different ports must never share a data dir, so the default depends on the port.
    if ((PORT == DEFAULT_PORT)); then DIR="data/kafka-broker"; else DIR="data/kafka-broker-$PORT"; fi
  fi
  # Relative paths are relative to the project root, whatever the caller's working directory.
  [[ "$DIR" = /* ]] || DIR="$PROJECT_ROOT/$DIR"
  DIR="${DIR%/}"

  PID_FILE="$DIR/broker.pid"
  DATA_DIR="$DIR/data"
  LOG_DIR="$DIR/logs"
  PROPS="$DIR/server.properties"
  LOG4J="$DIR/log4j2.xml"
  CONTROLLER_PORT=$((PORT + 1))
}

# --- classpath -------------------------------------------------------------------------------

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

classpath_complete() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(pom_hash)" ]]
}

# Copies the broker's runtime jars into CACHE_DIR. A run that died half-way leaves no marker,
# so the next run starts over instead of launching a broker with missing jars.
install_classpath() {
  classpath_complete && return 0
  command -v mvn >/dev/null || die "mvn not found: install Apache Maven (Debian: apt-get install maven)"

  mkdir -p "$(dirname "$CACHE_DIR")"
  # Two installs at once (e.g. two terminals) must not write into the same directory.
  exec 9>"$CACHE_DIR.lock"
  if command -v flock >/dev/null; then flock 9; fi
  if classpath_complete; then exec 9>&-; return 0; fi

  # On stderr, so that callers that silence stdout still see why they are waiting.
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $CACHE_DIR" >&2
  rm -rf "$CACHE_DIR"
  mkdir -p "$CACHE_DIR"
  # Maven's output goes to a file: it is only interesting when resolving fails (and Debian's
  # Maven 3.8 prints stray colour escapes even with -B -q).
  if ! mvn -B -q -f "$POM" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DoutputDirectory="$CACHE_DIR" -DincludeScope=runtime >"$CACHE_DIR/.mvn.log" 2>&1; then
    cat "$CACHE_DIR/.mvn.log" >&2
    die "could not resolve the Kafka classpath (is Maven Central reachable?)"
  fi
  compgen -G "$CACHE_DIR/kafka_2.13-*.jar" >/dev/null || die "kafka_2.13 jar missing in $CACHE_DIR"
  pom_hash >"$MARKER"
  exec 9>&-
}

# --- process helpers -------------------------------------------------------------------------

# Prints the PID from DIR/broker.pid if that process is alive AND is the broker of this DIR
# (the PID may have been reused by an unrelated process after a reboot or crash).
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "$PROPS" >/dev/null || return 1
  fi
  printf '%s\n' "$pid"
}

port_open() {
  # bash's /dev/tcp: no extra tools needed. The subshell keeps the fd from leaking.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding, and Kafka never
# hands out one starting with '-' (it would look like a command-line flag). Generating it here
# saves a JVM start of `StorageTool random-uuid`.
random_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && break
  done
  printf '%s\n' "$id"
}

# --- configuration ---------------------------------------------------------------------------

write_server_properties() {
  cat >"$PROPS" <<EOF
# Written by scripts/kafka-broker.sh on every start; edits are overwritten.
# One combined broker+controller KRaft node for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR

# A single node can only hold one replica of the internal topics.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumers join at once instead of waiting 3 s for more members (tests start many groups).
group.initial.rebalance.delay.ms=0
num.partitions=1
EOF
}

write_log4j_config() {
  # The broker logs to a file only; stdout/stderr (JVM messages) go to logs/broker.out.
  cat >"$LOG4J" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/kafka-broker.sh on every start; edits are overwritten. -->
<!-- shutdownHook="disable": log4j's own hook would stop logging while the broker is still
     shutting down (losing the end of the log); the appender flushes every line anyway. -->
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <RollingFile name="server" fileName="${sys:kafka.logs.dir}/server.log"
                 filePattern="${sys:kafka.logs.dir}/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <!-- Per-request and per-partition state chatter; useless for development. -->
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
  </Loggers>
</Configuration>
EOF
}

# --fresh deletes DIR recursively: refuse unless it is empty or looks like a broker directory,
# so a mistyped --dir cannot take a source tree or home directory with it.
wipe_dir() {
  [[ -d "$DIR" ]] || return 0
  if [[ -n "$(ls -A "$DIR")" && ! -f "$PROPS" ]]; then
    die "refusing to wipe $DIR for --fresh: it has no server.properties, so it is not a broker directory"
  fi
  rm -rf "$DIR"
}

# --- subcommands -----------------------------------------------------------------------------

cmd_install() {
  install_classpath
  log "Apache Kafka $KAFKA_VERSION classpath ready in $CACHE_DIR"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    log "running (pid $pid) on 127.0.0.1:$PORT, data in $DIR"
  else
    log "not running (dir $DIR)"
    return 3
  fi
}

cmd_stop() {
  local pid waited=0
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running (dir $DIR)"
    return 0
  fi
  # SIGTERM lets the broker flush and write its clean-shutdown marker, so the next start
  # skips log recovery.
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT * 4)); then
      log "no clean shutdown after ${STOP_TIMEOUT}s, killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

cmd_start() {
  local pid p
  if pid="$(running_pid)"; then
    if ((FRESH)); then
      log "a broker from $DIR is running (pid $pid); stopping it because of --fresh"
      cmd_stop
    else
      log "already running (pid $pid) on 127.0.0.1:$PORT, data in $DIR"
      return 0
    fi
  fi
  for p in "$PORT" "$CONTROLLER_PORT"; do
    port_open "$p" && die "127.0.0.1:$p is already in use by another process (not a broker from $DIR)"
  done

  command -v "$JAVA" >/dev/null || die "java not found: install OpenJDK 17 (Debian: apt-get install openjdk-17-jre-headless)"
  install_classpath

  if ((FRESH)); then wipe_dir; fi
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_server_properties
  write_log4j_config

  # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS holds several flags
  local java_opts=(
    $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dkafka.logs.dir=$LOG_DIR" "-Dlog4j2.configurationFile=$LOG4J"
    -cp "$CACHE_DIR/*"
  )

  # Format only once: formatting again would need the same cluster id, and skipping it on
  # restart is what keeps topics and committed offsets.
  if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    "$JAVA" "${java_opts[@]}" kafka.tools.StorageTool format \
      -t "$(random_cluster_id)" -c "$PROPS" --ignore-formatted >"$LOG_DIR/format.out" 2>&1 \
      || { cat "$LOG_DIR/format.out" >&2; die "formatting $DATA_DIR failed"; }
  fi

  # Only log lines written by this start count when looking for the "started" line.
  local server_log="$LOG_DIR/server.log" log_offset=0
  [[ -f "$server_log" ]] && log_offset="$(wc -c <"$server_log" | tr -d ' ')"

  # setsid: its own session, so Ctrl-C in the terminal (or the test runner's process group
  # ending) does not take the broker down with it. The inner shell records its own PID and then
  # becomes java (exec), so the PID file names the JVM. All descriptors point at files, so
  # callers that capture our output (npm, Node's execFile) do not wait for the broker to exit.
  rm -f "$PID_FILE"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$JAVA" "${java_opts[@]}" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG_DIR/broker.out" 2>&1 &

  wait_until_ready "$server_log" "$log_offset"
  log "listening on 127.0.0.1:$PORT (pid $(cat "$PID_FILE")), data in $DATA_DIR, log in $server_log"
}

# The port accepts TCP connections as soon as the listener is bound, before the broker serves
# requests; "Kafka Server started" is logged once it has caught up with the metadata log and is
# unfenced. Wait for both. (No `grep -q`: it would quit early and, with pipefail, tail's SIGPIPE
# would make the pipeline fail.)
wait_until_ready() {
  local server_log="$1" log_offset="$2" ticks=0 pid=""
  while :; do
    [[ -z "$pid" && -s "$PID_FILE" ]] && pid="$(cat "$PID_FILE")"
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      fail_start "the broker exited during startup"
    fi
    if port_open "$PORT" && [[ -f "$server_log" ]] \
        && tail -c "+$((log_offset + 1))" "$server_log" | grep -F 'Kafka Server started' >/dev/null; then
      return 0
    fi
    if ((ticks >= START_TIMEOUT * 4)); then
      [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
      fail_start "the broker did not become ready within ${START_TIMEOUT}s (killed)"
    fi
    sleep 0.25
    ticks=$((ticks + 1))
  done
}

fail_start() {
  rm -f "$PID_FILE"
  {
    printf 'kafka-broker: %s\n' "$1"
    for f in "$LOG_DIR/broker.out" "$LOG_DIR/server.log"; do
      [[ -s "$f" ]] || continue
      printf -- '--- last lines of %s ---\n' "$f"
      tail -n 30 "$f"
    done
  } >&2
  exit 1
}

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
    start)   parse_args "$@"; cmd_start ;;
    stop)    parse_args "$@"; cmd_stop ;;
    status)  parse_args "$@"; cmd_status ;;
    install) cmd_install ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
