#!/usr/bin/env bash
# A real Apache Kafka broker, or a cluster of them, for development and tests, without Docker.
#
# The broker's jars come from Maven Central (scripts/kafka/pom.xml) and are cached outside the
# project, so only the first run on a machine downloads anything. Every node is a combined
# broker+controller KRaft node listening on 127.0.0.1 only.
#
# Usage:
#   scripts/kafka-broker.sh start  [--brokers K] [--port N] [--dir D] [--node I] [--fresh]
#   scripts/kafka-broker.sh stop   [--brokers K] [--port N] [--dir D] [--node I]
#   scripts/kafka-broker.sh status [--brokers K] [--port N] [--dir D] [--node I]   (exit 0 when all run, 3 when not)
#   scripts/kafka-broker.sh install                                            (only fetch the classpath)
#
#   --brokers K  number of nodes (1 to 9, default 1). With 3 or more, topics default to 3 replicas
#                (default.replication.factor) and acks=all needs 2 of them in sync
#                (min.insync.replicas), so one node can fail without losing or refusing writes.
#   --port N     client port of node 1 (default 9092). Node i listens for clients on N+i-1 and runs
#                its KRaft controller on N+100+i-1: 9092-9094 and 9192-9194 for three nodes,
#                9092 and 9192 for one.
#   --dir D      data directory (relative to the project root). One node: default ./data/kafka-broker,
#                or ./data/kafka-broker-N for another port; D holds server.properties, the log4j2
#                config, the partition data (data/), the broker log (logs/server.log) and broker.pid.
#                K nodes: default ./data/kafka-cluster-N; node i keeps the same files in D/node-i,
#                and D/cluster.id names the cluster all nodes were formatted for.
#   --node I     act on node I only (start, stop or status one node of a cluster; start leaves
#                the others as they are, so it brings back a node that was stopped or killed).
#   --fresh      wipe D first (stopping nodes that still run from it). Without it a restart keeps
#                topics and committed offsets.
#
# `start` starts the nodes that are not running and waits until every one it started serves
# requests; nodes already running are left alone. A cluster's nodes are started together, because
# a controller quorum needs a majority of them before any node is ready.
#
# Environment:
#   KAFKA_CACHE_DIR      where the jars go (default ${XDG_CACHE_HOME:-$HOME/.cache}/k8s-expenses/kafka-<version>)
#   KAFKA_HEAP_OPTS      JVM heap flags of each node (default -Xmx512m -Xms256m)
#   KAFKA_START_TIMEOUT  seconds to wait for the nodes to serve requests (default 90)
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
# Controllers listen this far above the client ports, so no node's controller port is another
# node's client port (up to 100 nodes).
CONTROLLER_OFFSET=100
MAX_BROKERS=9
PORT="$DEFAULT_PORT"
BROKERS=1
ONLY_NODE=""
DIR=""
FRESH=0

log() { printf 'kafka-broker: %s\n' "$*"; }
die() { printf 'kafka-broker: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '8,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

number_arg() {
  [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "$1 needs a number"
}

parse_args() {
  while (($#)); do
    case "$1" in
      --fresh) FRESH=1 ;;
      --port) number_arg "$@"; PORT="$2"; shift ;;
      --port=*) PORT="${1#--port=}" ;;
      --brokers) number_arg "$@"; BROKERS="$2"; shift ;;
      --brokers=*) BROKERS="${1#--brokers=}" ;;
      --node) number_arg "$@"; ONLY_NODE="$2"; shift ;;
      --node=*) ONLY_NODE="${1#--node=}" ;;
      --dir)
        [[ $# -ge 2 ]] || die "--dir needs a path"
        DIR="$2"; shift ;;
      --dir=*) DIR="${1#--dir=}" ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
  done
  [[ "$BROKERS" =~ ^[0-9]+$ ]] && ((BROKERS >= 1 && BROKERS <= MAX_BROKERS)) || die "bad --brokers: $BROKERS (1 to $MAX_BROKERS)"
  [[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT + CONTROLLER_OFFSET + BROKERS - 1 < 65536)) \
    || die "bad port: $PORT (the controllers need $PORT+$CONTROLLER_OFFSET to $PORT+$((CONTROLLER_OFFSET + BROKERS - 1)) below 65536)"
  if [[ -n "$ONLY_NODE" ]]; then
    [[ "$ONLY_NODE" =~ ^[0-9]+$ ]] && ((ONLY_NODE >= 1 && ONLY_NODE <= BROKERS)) || die "bad --node: $ONLY_NODE (1 to $BROKERS)"
  fi
  ((FRESH == 0)) || [[ -z "$ONLY_NODE" ]] || die "--fresh wipes the whole directory: it cannot be combined with --node"

  if [[ -z "$DIR" ]]; then
    # Brokers on different ports must never share a data dir, so the default depends on the port.
    if ((BROKERS > 1)); then DIR="data/kafka-cluster-$PORT"
    elif ((PORT == DEFAULT_PORT)); then DIR="data/kafka-broker"
    else DIR="data/kafka-broker-$PORT"; fi
  fi
  # Relative paths are relative to the project root, whatever the caller's working directory.
  [[ "$DIR" = /* ]] || DIR="$PROJECT_ROOT/$DIR"
  DIR="${DIR%/}"
  CLUSTER_ID_FILE="$DIR/cluster.id"

  VOTERS=""
  local i
  for ((i = 1; i <= BROKERS; i++)); do
    VOTERS+="${VOTERS:+,}$i@127.0.0.1:$((PORT + CONTROLLER_OFFSET + i - 1))"
  done
}

# The nodes a command acts on: --node, or all of them.
selected_nodes() {
  if [[ -n "$ONLY_NODE" ]]; then echo "$ONLY_NODE"; else seq 1 "$BROKERS"; fi
}

# Points the node variables at node $1. A single node keeps its files directly in DIR (the
# layout from before clusters existed); a cluster's node i keeps them in DIR/node-i.
select_node() {
  NODE="$1"
  if ((BROKERS == 1)); then NODE_DIR="$DIR"; else NODE_DIR="$DIR/node-$NODE"; fi
  NODE_PORT=$((PORT + NODE - 1))
  NODE_CONTROLLER_PORT=$((PORT + CONTROLLER_OFFSET + NODE - 1))
  PID_FILE="$NODE_DIR/broker.pid"
  DATA_DIR="$NODE_DIR/data"
  LOG_DIR="$NODE_DIR/logs"
  PROPS="$NODE_DIR/server.properties"
  LOG4J="$NODE_DIR/log4j2.xml"
  if ((BROKERS == 1)); then NODE_NAME="broker"; else NODE_NAME="node $NODE"; fi
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

# Prints the PID from the selected node's broker.pid if that process is alive AND is that node
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
  # Replicas of the internal topics and the topic defaults: as many as there are nodes, at most 3;
  # with 3 replicas, 2 must be in sync for acks=all, so one node may be down.
  local replicas=$((BROKERS < 3 ? BROKERS : 3))
  local min_isr=$((replicas >= 3 ? 2 : 1))
  cat >"$PROPS" <<EOF
# Written by scripts/kafka-broker.sh on every start; edits are overwritten.
# Node $NODE of $BROKERS: a combined broker+controller KRaft node for development and tests.
process.roles=broker,controller
node.id=$NODE
controller.quorum.voters=$VOTERS
listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR

# Internal topics and topic defaults ($BROKERS node(s)).
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
default.replication.factor=$replicas
min.insync.replicas=$min_isr
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

# --fresh deletes DIR recursively: refuse unless it is empty or looks like a broker or cluster
# directory, so a mistyped --dir cannot take a source tree or home directory with it.
wipe_dir() {
  [[ -d "$DIR" ]] || return 0
  if [[ -n "$(ls -A "$DIR")" && ! -f "$DIR/server.properties" && ! -f "$CLUSTER_ID_FILE" && ! -f "$DIR/node-1/server.properties" ]]; then
    die "refusing to wipe $DIR for --fresh: it has no server.properties or cluster.id, so it is not a broker directory"
  fi
  rm -rf "$DIR"
}

# The id every node of DIR is formatted with: kept in DIR/cluster.id for a cluster, so that a
# node whose data was lost is formatted into the same cluster again.
cluster_id() {
  if ((BROKERS == 1)); then random_cluster_id; return; fi
  [[ -s "$CLUSTER_ID_FILE" ]] || random_cluster_id >"$CLUSTER_ID_FILE"
  cat "$CLUSTER_ID_FILE"
}

java_opts() {
  # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS holds several flags
  JAVA_OPTS=(
    $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dkafka.logs.dir=$LOG_DIR" "-Dlog4j2.configurationFile=$LOG4J"
    -cp "$CACHE_DIR/*"
  )
}

# Writes the selected node's configuration and formats its log dir when new.
prepare_node() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_server_properties
  write_log4j_config
  java_opts
  # Format only once: formatting again would need the same cluster id, and skipping it on
  # restart is what keeps topics and committed offsets.
  if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    "$JAVA" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format \
      -t "$(cluster_id)" -c "$PROPS" --ignore-formatted >"$LOG_DIR/format.out" 2>&1 \
      || { cat "$LOG_DIR/format.out" >&2; die "formatting $DATA_DIR failed"; }
  fi
}

# Starts the selected node in the background. Prints the server log's size before the start:
# only lines written after it count when looking for the "started" line.
launch_node() {
  local server_log="$LOG_DIR/server.log" log_offset=0
  [[ -f "$server_log" ]] && log_offset="$(wc -c <"$server_log" | tr -d ' ')"
  java_opts
  # setsid: its own session, so Ctrl-C in the terminal (or the test runner's process group
  # ending) does not take the broker down with it. The inner shell records its own PID and then
  # becomes java (exec), so the PID file names the JVM. All descriptors point at files, so
  # callers that capture our output (npm, Node's execFile) do not wait for the broker to exit.
  rm -f "$PID_FILE"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$JAVA" "${JAVA_OPTS[@]}" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG_DIR/broker.out" 2>&1 &
  printf '%s\n' "$log_offset"
}

# --- subcommands -----------------------------------------------------------------------------

cmd_install() {
  install_classpath
  log "Apache Kafka $KAFKA_VERSION classpath ready in $CACHE_DIR"
}

cmd_status() {
  local pid node down=0
  for node in $(selected_nodes); do
    select_node "$node"
    if pid="$(running_pid)"; then
      log "$NODE_NAME running (pid $pid) on 127.0.0.1:$NODE_PORT, data in $NODE_DIR"
    else
      log "$NODE_NAME not running (dir $NODE_DIR)"
      down=1
    fi
  done
  ((down == 0)) || return 3
}

cmd_stop() {
  local pid node waited=0
  local -A pids=()
  # SIGTERM to every node at once: each broker's controlled shutdown needs a controller quorum,
  # which stopping the nodes one after the other would take away from the last ones. A clean
  # shutdown writes the marker that lets the next start skip log recovery.
  for node in $(selected_nodes); do
    select_node "$node"
    if pid="$(running_pid)"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids[$node]="$pid"
    else
      rm -f "$PID_FILE"
      log "$NODE_NAME not running (dir $NODE_DIR)"
    fi
  done
  for node in "${!pids[@]}"; do
    pid="${pids[$node]}"
    select_node "$node"
    while kill -0 "$pid" 2>/dev/null; do
      if ((waited >= STOP_TIMEOUT * 4)); then
        log "$NODE_NAME: no clean shutdown after ${STOP_TIMEOUT}s, killing pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.25
      waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
    log "$NODE_NAME stopped (pid $pid)"
  done
}

cmd_start() {
  local pid node p
  local -A offsets=()
  if ((FRESH)); then
    for node in $(seq 1 "$BROKERS"); do
      select_node "$node"
      if pid="$(running_pid)"; then
        log "$NODE_NAME from $DIR is running (pid $pid); stopping it because of --fresh"
        ONLY_NODE="$node" cmd_stop
      fi
    done
  fi

  local to_start=()
  for node in $(selected_nodes); do
    select_node "$node"
    if pid="$(running_pid)"; then
      log "$NODE_NAME already running (pid $pid) on 127.0.0.1:$NODE_PORT, data in $NODE_DIR"
      continue
    fi
    for p in "$NODE_PORT" "$NODE_CONTROLLER_PORT"; do
      port_open "$p" && die "127.0.0.1:$p ($NODE_NAME) is already in use by another process (not a broker from $NODE_DIR)"
    done
    to_start+=("$node")
  done
  ((${#to_start[@]} > 0)) || return 0

  command -v "$JAVA" >/dev/null || die "java not found: install OpenJDK 17 (Debian: apt-get install openjdk-17-jre-headless)"
  install_classpath

  if ((FRESH)); then wipe_dir; fi
  mkdir -p "$DIR"
  # Formatting starts a JVM per node: side by side, not one after the other.
  cluster_id >/dev/null
  local preparing=() failed=0
  for node in "${to_start[@]}"; do
    (select_node "$node"; prepare_node) &
    preparing+=("$!")
  done
  for pid in "${preparing[@]}"; do wait "$pid" || failed=1; done
  ((failed == 0)) || die "could not prepare every node (see above)"
  for node in "${to_start[@]}"; do
    select_node "$node"
    offsets[$node]="$(launch_node)"
  done
  STARTED_NODES=("${to_start[@]}")

  for node in "${to_start[@]}"; do
    select_node "$node"
    wait_until_ready "${offsets[$node]}"
  done
  for node in "${to_start[@]}"; do
    select_node "$node"
    log "$NODE_NAME listening on 127.0.0.1:$NODE_PORT (pid $(cat "$PID_FILE")), data in $DATA_DIR, log in $LOG_DIR/server.log"
  done
}

# The port accepts TCP connections as soon as the listener is bound, before the broker serves
# requests; "Kafka Server started" is logged once it has caught up with the metadata log and is
# unfenced. Wait for both. (No `grep -q`: it would quit early and, with pipefail, tail's SIGPIPE
# would make the pipeline fail.) The deadline is shared by all nodes of one start.
wait_until_ready() {
  local log_offset="$1" server_log="$LOG_DIR/server.log" pid=""
  : "${START_DEADLINE:=$((SECONDS + START_TIMEOUT))}"
  while :; do
    [[ -z "$pid" && -s "$PID_FILE" ]] && pid="$(cat "$PID_FILE")"
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      fail_start "$NODE_NAME exited during startup"
    fi
    if port_open "$NODE_PORT" && [[ -f "$server_log" ]] \
        && tail -c "+$((log_offset + 1))" "$server_log" | grep -F 'Kafka Server started' >/dev/null; then
      return 0
    fi
    if ((SECONDS >= START_DEADLINE)); then
      fail_start "$NODE_NAME did not become ready within ${START_TIMEOUT}s"
    fi
    sleep 0.25
  done
}

# Kills every node this start launched (a half-started cluster helps nobody) and shows why.
fail_start() {
  local reason="$1" failed_log_dir="$LOG_DIR" node pid
  for node in "${STARTED_NODES[@]}"; do
    select_node "$node"
    if pid="$(running_pid)"; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$PID_FILE"
  done
  {
    printf 'kafka-broker: %s (killed what this start launched)\n' "$reason"
    for f in "$failed_log_dir/broker.out" "$failed_log_dir/server.log"; do
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
