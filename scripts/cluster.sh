#!/usr/bin/env bash
# scripts/cluster.sh: a local three-node Hibiki cluster to try, on loopback.
#
#   scripts/cluster.sh [--port N] [--postgres] [--no-build]
#
# Starts, in a fresh temporary directory:
#   redis-server         127.0.0.1:N+10   (the bus, HIBIKI_REDIS_URL)
#   PostgreSQL           127.0.0.1:N+11   (with --postgres: HIBIKI_DATABASE_URL=postgres://…;
#                                          without it the nodes share one SQLite file)
#   three hibiki nodes   127.0.0.1:N+1, N+2, N+3   (node1..node3)
#   nginx                127.0.0.1:N      (deploy/nginx.conf.template: round robin, no
#                                          sticky sessions, WebSocket and SSE passed through)
# N is 3000 by default. Open http://127.0.0.1:N/. Kill a node (its pid is
# printed) and watch its clients move to the others. Ctrl-C (or any exit)
# stops everything and removes the directory; nothing is left behind, so
# running it again starts clean.
#
# Like scripts/run.sh it first runs scripts/setup.sh (without the test-only
# packages), installs what it needs from Debian if missing (redis-server,
# nginx-light, postgresql with --postgres; it says which), and builds the
# release binary (`cargo leptos build --release --precompress`; --no-build
# skips that and uses target/release/hibiki as it is, or $HIBIKI_BIN).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT=3000
POSTGRES=0
BUILD=1
while (($#)); do
  case $1 in
    --port)
      PORT=${2:?--port needs a number}
      shift
      ;;
    --postgres) POSTGRES=1 ;;
    --no-build) BUILD=0 ;;
    -h | --help)
      sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "cluster.sh: unknown argument: $1 (try --help)" >&2
      exit 1
      ;;
  esac
  shift
done
[[ $PORT =~ ^[0-9]+$ ]] && ((PORT >= 1024 && PORT <= 65000)) || {
  echo "cluster.sh: --port must be a number from 1024 to 65000" >&2
  exit 1
}
NODE_PORTS=($((PORT + 1)) $((PORT + 2)) $((PORT + 3)))
REDIS_PORT=$((PORT + 10))
PG_PORT=$((PORT + 11))

# The server resolves target/site relative to its working directory.
cd "$ROOT"
HIBIKI_SETUP_TEST_DEPS=0
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
packages=(redis-server nginx-light)
((POSTGRES)) && packages+=(postgresql)
hibiki_apt_ensure "${packages[@]}"

if ((BUILD)); then
  echo "==> cargo leptos build --release --precompress"
  cargo leptos build --release --precompress
fi
HIBIKI_BIN=${HIBIKI_BIN:-$ROOT/target/release/hibiki}
[[ -x $HIBIKI_BIN ]] || {
  echo "cluster.sh: $HIBIKI_BIN is missing (run without --no-build)" >&2
  exit 1
}

# Whether something listens on 127.0.0.1:$1 (bash's /dev/tcp: no curl needed).
listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# The status code of GET $2 on 127.0.0.1:$1, or nothing.
http_status() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  read -r -t 2 _ line _ <&3 || true
  exec 3<&-
  echo "${line:-}"
}
# Waits (up to 30 s) until `check` succeeds; dies naming `what` otherwise.
wait_for() {
  local what=$1 tries=0
  shift
  until "$@"; do
    ((++tries < 300)) || {
      echo "cluster.sh: $what did not come up (logs in $DIR)" >&2
      exit 1
    }
    sleep 0.1
  done
}

ports=("$PORT" "${NODE_PORTS[@]}" "$REDIS_PORT")
((POSTGRES)) && ports+=("$PG_PORT")
for p in "${ports[@]}"; do
  if listening "$p"; then
    echo "cluster.sh: 127.0.0.1:$p is taken; stop what runs there or pick --port" >&2
    exit 1
  fi
done

DIR=$(mktemp -d -t hibiki-cluster.XXXXXX)
# PostgreSQL runs as `postgres` when we are root, and must reach its directory.
chmod 755 "$DIR"
PIDS=()
NODE_PIDS=()
PG_BIN=""

stop_all() {
  trap - EXIT INT TERM
  echo
  echo "==> stopping the cluster"
  local pid
  # nginx first (no new requests), then the nodes (they close sockets with
  # 1001), then Redis and PostgreSQL.
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n $PG_BIN ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  echo "==> stopped; $DIR removed"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# initdb and pg_ctl refuse to run as root: as root, they run as `postgres`.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

echo "==> redis-server on 127.0.0.1:$REDIS_PORT"
mkdir -p "$DIR/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$DIR/redis" --logfile "$DIR/redis.log" &
PIDS=($! "${PIDS[@]}")
wait_for redis-server listening "$REDIS_PORT"

if ((POSTGRES)); then
  PG_BIN=$(find /usr/lib/postgresql -maxdepth 3 -name initdb -path '*/bin/*' | sort -V | tail -1)
  PG_BIN=${PG_BIN%/initdb}
  [[ -n $PG_BIN ]] || {
    echo "cluster.sh: PostgreSQL's initdb not found under /usr/lib/postgresql" >&2
    exit 1
  }
  echo "==> PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT"
  mkdir -p "$DIR/pg"
  [[ $(id -u) -eq 0 ]] && chown postgres "$DIR/pg"
  as_pg "$PG_BIN/initdb" -D "$DIR/pg" -U hibiki --auth=trust --no-sync -E UTF8 \
    --locale=C.UTF-8 >"$DIR/initdb.log"
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$DIR/pg" \
    start >/dev/null
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U hibiki hibiki
  DATABASE_URL="postgres://hibiki@127.0.0.1:$PG_PORT/hibiki"
else
  # One SQLite file in WAL mode, shared by the three processes.
  DATABASE_URL="sqlite://$DIR/hibiki.db"
fi

for i in 1 2 3; do
  port=${NODE_PORTS[$((i - 1))]}
  echo "==> node$i on 127.0.0.1:$port"
  # One at a time: the first creates the store and the shared JWT secret.
  env LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    HIBIKI_DATABASE_URL="$DATABASE_URL" \
    HIBIKI_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" \
    HIBIKI_NODE_ID="node$i" \
    HIBIKI_TRUSTED_PROXIES=127.0.0.1 \
    HIBIKI_PUBLIC_ORIGIN="http://127.0.0.1:$PORT,http://localhost:$PORT" \
    RUST_LOG="${RUST_LOG:-info,tower_http=warn}" \
    "$HIBIKI_BIN" >"$DIR/node$i.log" 2>&1 &
  PIDS=($! "${PIDS[@]}")
  NODE_PIDS+=($!)
  node_pid=$!
  ready() {
    kill -0 "$node_pid" 2>/dev/null || {
      echo "cluster.sh: node$i exited; its log ($DIR/node$i.log) ends:" >&2
      tail -5 "$DIR/node$i.log" >&2
      exit 1
    }
    [[ $(http_status "$port" /ready) == 200 ]]
  }
  wait_for "node$i (GET /ready)" ready
done

echo "==> nginx on 127.0.0.1:$PORT"
conf=""
while IFS= read -r line; do
  if [[ $line == *@UPSTREAM@* ]]; then
    # That line once per node.
    for port in "${NODE_PORTS[@]}"; do
      conf+="${line//@UPSTREAM@/127.0.0.1:$port}"$'\n'
    done
  else
    conf+="$line"$'\n'
  fi
done <"$ROOT/deploy/nginx.conf.template"
conf=${conf//@PREFIX@/$DIR}
conf=${conf//@LISTEN@/127.0.0.1:$PORT}
printf '%s' "$conf" >"$DIR/nginx.conf"
/usr/sbin/nginx -c "$DIR/nginx.conf" -p "$DIR" -e "$DIR/error.log" &
NGINX_PID=$!
PIDS=("$NGINX_PID" "${PIDS[@]}")
wait_for nginx listening "$PORT"

echo
echo "==> Hibiki cluster on http://127.0.0.1:$PORT/  (Ctrl-C stops it)"
echo "    store: $DATABASE_URL"
for i in 0 1 2; do
  echo "    node$((i + 1)): http://127.0.0.1:${NODE_PORTS[$i]}/  pid ${NODE_PIDS[$i]}"
done
echo "    logs:  $DIR/node{1,2,3}.log, $DIR/error.log (nginx), $DIR/redis.log"
wait "$NGINX_PID"
