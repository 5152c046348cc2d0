#!/usr/bin/env bash
# bench/run.sh: Hibiki against the tutorials' Node servers, on this machine.
#
# Builds the release server and the load generator, installs the Node peers
# (bench/peers, npm ci), then runs every scenario RUNS times per server, each
# run against a freshly started server process on loopback, and writes
# bench/RESULTS.md (medians with min..max, ratios) from the JSON lines.
#
#   A         1 room x 1,000 clients, 1 sender, 100 msg/s for 10 s
#   B         10 rooms x 100 clients, 50 senders, 500 msg/s for 10 s (node-ws
#             has no rooms: not run)
#   C         1 room x 1,000 clients, 10 senders, 100, 150, 200 ... msg/s,
#             5 s a step, stopping after the first step with p99 > 1 s or a loss
#   D         10,000 idle connections in one room, held 5 s
#   E         Hibiki only: A and B on three nodes (labels E-A, E-B): redis-server
#             as the bus, three nodes on one SQLite file, connections and
#             senders spread round robin over the nodes; reports the cross-node
#             deliveries' latency apart; compare with A and B of the same run
#   accounts  Hibiki only: 1,000 registrations, then 1,000 logins, 100 at a time
#
# Settings (environment): RUNS (default 2), SCENARIOS (default "A B C D E
# accounts"), TARGETS (default "hibiki node-ws socketio"), TITLE (the heading
# of RESULTS.md), OUT (default bench/RESULTS.md), SKIP_BUILD=1 (use the
# binaries already in target/release), HIBIKI_BIN (another server binary),
# PERF_OUT (record the Hibiki server with `perf record -e cpu-clock -g`
# during each of its runs, into PERF_OUT.<scenario>-<run>; see profile.sh),
# PERF_CALL_GRAPH (perf's call-graph option instead of `-g`, e.g.
# "--call-graph dwarf,8192 -F 250" for a release binary without frame pointers).
#
# Every run ends by itself (bounded phases, bounded drain); the whole script
# takes about 15-20 minutes on 2 cores. Servers bind 127.0.0.1 only.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUNS=${RUNS:-2}
SCENARIOS=${SCENARIOS:-"A B C D E accounts"}
TARGETS=${TARGETS:-"hibiki node-ws socketio"}
TITLE=${TITLE:-"Benchmark results"}
OUT=${OUT:-bench/RESULTS.md}
PORT=${PORT:-18080}
URL="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/hibiki-bench.XXXXXX)
JSONL="$WORK/results.jsonl"
LOG="$WORK/run.log"
BENCH="$ROOT/target/release/hibiki-bench"
HIBIKI="${HIBIKI_BIN:-$ROOT/target/release/hibiki}"

# 10,000 connections need as many descriptors in the generator and in each
# server (they inherit this limit).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 12000 ]; then
  echo "run.sh: ulimit -n is $(ulimit -n); scenario D needs about 10,100 descriptors" >&2
  exit 1
fi

if [ "${SKIP_BUILD:-}" != 1 ]; then
  cargo build --release -p server -p bench --bin hibiki --bin hibiki-bench
fi
(cd bench/peers && npm ci --no-audit --no-fund --silent)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Every limit the load would trip, lifted by its documented setting
# (docs/security.md). The outbound queue (HIBIKI_OUTBOUND_QUEUE) is kept: it
# is the slow-consumer policy, not a rate limit, and its closes are reported.
LIFTED=(
  HIBIKI_MAX_CONNECTIONS_PER_IP=1000000
  HIBIKI_MAX_CONNECTIONS=1000000
  HIBIKI_LOGIN_PER_IP_PER_MIN=1000000
  HIBIKI_LOGIN_PER_NAME_PER_MIN=1000000
  HIBIKI_FRAMES_PER_SECOND=1000000
  HIBIKI_FRAME_BURST=1000000
)
# A fixed secret, so that tokens issued on the seed store stay valid on its copies.
HIBIKI_ENV=("${LIFTED[@]}" HIBIKI_JWT_SECRET=bench-secret-not-for-production RUST_LOG=warn
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT="$ROOT/target/site")

SERVER_PID=""
start_server() { # target db
  case $1 in
    hibiki)
      (if [ -n "${ACCOUNTS_CAP:-}" ]; then ulimit -v $((4 * 1024 * 1024)); fi
        exec env "${HIBIKI_ENV[@]}" HIBIKI_DATABASE_URL="sqlite://$2" "$HIBIKI") >>"$WORK/server.log" 2>&1 &
      SERVER_PID=$! ;;
    node-ws) PORT=$PORT node bench/peers/ws-server.js >>"$WORK/server.log" 2>&1 &
      SERVER_PID=$! ;;
    socketio) PORT=$PORT node bench/peers/socketio-server.js >>"$WORK/server.log" 2>&1 &
      SERVER_PID=$! ;;
  esac
  # Ready when the port accepts connections (at most 20 s).
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run.sh: $1 did not start; see $WORK/server.log" >&2
  exit 1
}
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# Scenario E: redis-server on PORT+10 and three nodes on PORT+1..PORT+3, one
# SQLite file (`BEGIN IMMEDIATE` and the busy timeout let processes share it).
REDIS_PORT=$((PORT + 10))
NODE_URLS="http://127.0.0.1:$((PORT + 1)),http://127.0.0.1:$((PORT + 2)),http://127.0.0.1:$((PORT + 3))"
CLUSTER_PIDS=()
# Waits (at most 20 s) until `probe` succeeds while process $2 lives.
wait_until() { # what pid probe...
  local what=$1 pid=$2
  shift 2
  for _ in $(seq 1 200); do
    if "$@" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run.sh: $what did not start; see $WORK/server.log" >&2
  exit 1
}
start_cluster() { # db
  command -v redis-server >/dev/null || {
    echo "run.sh: scenario E needs redis-server (apt-get install redis-server)" >&2
    exit 1
  }
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK" --logfile "$WORK/redis.log" &
  CLUSTER_PIDS=($!)
  wait_until redis-server "${CLUSTER_PIDS[0]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT"
  local i
  for i in 1 2 3; do
    # One at a time: the first migrates the store. Ready = store and bus up.
    env "${HIBIKI_ENV[@]}" LEPTOS_SITE_ADDR="127.0.0.1:$((PORT + i))" HIBIKI_NODE_ID="node$i" \
      HIBIKI_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" HIBIKI_DATABASE_URL="sqlite://$1" \
      "$HIBIKI" >>"$WORK/server.log" 2>&1 &
    CLUSTER_PIDS+=($!)
    wait_until "node$i" "$!" curl -fsS -o /dev/null "http://127.0.0.1:$((PORT + i))/ready"
  done
}
stop_cluster() { # the nodes, then Redis
  local pid
  for pid in "${CLUSTER_PIDS[@]:1}" "${CLUSTER_PIDS[0]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}
trap 'for pid in $SERVER_PID "${CLUSTER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done' EXIT

fresh_db() { # name -> path of a fresh copy of the seed store
  local db="$WORK/$1.db"
  cp "$WORK/seed.db" "$db"
  if [ -f "$WORK/seed.db-wal" ]; then cp "$WORK/seed.db-wal" "$db-wal"; fi
  echo "$db"
}

# The seed store: 1,000 accounts registered once; every Hibiki run gets a
# fresh copy of it (registration is measured by the accounts scenario).
if [[ " $TARGETS " == *" hibiki "* ]]; then
  echo "== seeding 1,000 accounts"
  start_server hibiki "$WORK/seed.db"
  "$BENCH" run --target hibiki --url "$URL" --clients 1 --users 1000 --rates 0 \
    --auth-concurrency 4 --token-cache "$WORK/tokens.txt" >>"$LOG"
  stop_server
fi

scenario_args() { # scenario target
  case $1 in
    A) echo "--clients 1000 --users 1000 --rooms 1 --senders 1 --rates 100 --duration 10" ;;
    B) echo "--clients 1000 --users 1000 --rooms 10 --senders 50 --rates 500 --duration 10" ;;
    C) echo "--clients 1000 --users 1000 --rooms 1 --senders 10 --duration 5 --stop-p99-ms 1000
             --rates 100,150,200,250,300,400,500,600,800,1000,1500,2000" ;;
    D) echo "--clients 10000 --users 1000 --rooms 1 --senders 0 --rates 0 --hold 5
             --source-ips 4 --connect-concurrency 200" ;;
  esac
}

for scenario in $SCENARIOS; do
  for run in $(seq 1 "$RUNS"); do
    if [ "$scenario" = accounts ]; then
      [[ " $TARGETS " == *" hibiki "* ]] || continue
      echo "== accounts, run $run"
      # Capped: concurrent registrations have grown the server past 18 GiB
      # (OOM-killed) before; the cap makes it fail alone, not the machine.
      ACCOUNTS_CAP=1 start_server hibiki "$WORK/accounts-$run.db"
      "$BENCH" accounts --url "$URL" --users 1000 --concurrency 100 \
        --server-pid "$SERVER_PID" --json-out "$JSONL" | tee -a "$LOG"
      stop_server
      continue
    fi
    if [ "$scenario" = E ]; then
      [[ " $TARGETS " == *" hibiki "* ]] || continue
      for shape in A B; do
        echo "== E-$shape (three nodes) against hibiki, run $run"
        start_cluster "$(fresh_db "E-$shape-$run")"
        # shellcheck disable=SC2046 # the scenario's arguments split on purpose
        "$BENCH" run --label "E-$shape" --target hibiki --url "$NODE_URLS" \
          --server-pid "$(IFS=,; echo "${CLUSTER_PIDS[*]}")" --token-cache "$WORK/tokens.txt" \
          --json-out "$JSONL" $(scenario_args "$shape") | tee -a "$LOG" || true
        stop_cluster
      done
      continue
    fi
    for target in $TARGETS; do
      if [ "$scenario" = B ] && [ "$target" = node-ws ]; then continue; fi
      echo "== $scenario against $target, run $run"
      db=""
      if [ "$target" = hibiki ]; then db=$(fresh_db "$scenario-$run"); fi
      start_server "$target" "$db"
      PERF_PID=""
      if [ -n "${PERF_OUT:-}" ] && [ "$target" = hibiki ]; then
        # shellcheck disable=SC2086 # the call-graph option splits on purpose
        perf record -q -e cpu-clock ${PERF_CALL_GRAPH:--g} -p "$SERVER_PID" -o "$PERF_OUT.$scenario-$run" >>"$WORK/perf.log" 2>&1 &
        PERF_PID=$!
      fi
      # shellcheck disable=SC2046 # the scenario's arguments split on purpose
      "$BENCH" run --label "$scenario" --target "$target" --url "$URL" \
        --server-pid "$SERVER_PID" --token-cache "$WORK/tokens.txt" \
        --json-out "$JSONL" $(scenario_args "$scenario") | tee -a "$LOG" || true
      if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
      stop_server
    done
  done
done

{
  echo "# $TITLE"
  echo
  echo "- Commit: \`$(git rev-parse --short HEAD)\` ($(git rev-parse --abbrev-ref HEAD))$(git diff --quiet HEAD -- server protocol bench || echo ', with local changes')"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r); shared by the servers, the load generator (and, on this box, other builds)"
  echo "- Load average (1, 5, 15 min) when the runs started: $LOAD_START; when they ended: $(cut -d' ' -f1-3 /proc/loadavg). Other processes' CPU shows up as latency and lower rates for every target alike; compare the ratios"
  echo "- Software: $(rustc --version), node $(node --version), ws $(node -p 'require("./bench/peers/node_modules/ws/package.json").version'), socket.io $(node -p 'require("./bench/peers/node_modules/socket.io/package.json").version')"
  echo "- Command: \`RUNS=$RUNS SCENARIOS=\"$SCENARIOS\" bench/run.sh\`; each run starts its server afresh (Hibiki on a fresh copy of a store seeded with 1,000 accounts)"
  echo "- Limits lifted (Hibiki): $(printf '`%s` ' "${LIFTED[@]}")"
  echo "- Kept: \`HIBIKI_OUTBOUND_QUEUE\` (256 frames; a connection that falls further behind is closed with 4000 and counted as dropped, its deliveries as lost)"
  echo "- Messages: 64-byte text; latency is send to delivery on one clock (the generator's); CPU is the server process's utime+stime from /proc; RSS per connection is (RSS after connecting and a hold − RSS before) / connections"
  echo "- Hibiki connections share 1,000 accounts round-robin (D: 10 connections per account)"
  if [[ " $SCENARIOS " == *" E "* ]]; then
    echo "- E-A, E-B: the loads of A and B on three Hibiki nodes (redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') as the bus, one shared SQLite file); connection i (and sender i) on node i mod 3; \"server\" CPU and RSS are the three nodes' and Redis's together; cross-node latency counts only deliveries whose sender is on another node than the receiver"
  fi
  echo
  "$BENCH" report "$JSONL"
  echo "Raw JSON lines: \`bench/results.jsonl\`."
} >"$OUT"
if [ "$OUT" = bench/RESULTS.md ]; then cp "$JSONL" bench/results.jsonl; fi
echo "run.sh: wrote $OUT (work files in $WORK)"
