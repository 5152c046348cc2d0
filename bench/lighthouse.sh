#!/usr/bin/env bash
# bench/lighthouse.sh: the browser side of the benchmark (issue 10, part 5).
#
#   bench/lighthouse.sh [--no-build] [--runs N]
#
# Builds the release site (`cargo leptos build --release --precompress`,
# incremental), starts it on 127.0.0.1:$HIBIKI_LH_PORT (3100) with a fresh
# SQLite file, signs up one user and posts 50 messages to `general`, then:
#   1. the first load's bytes: wasm + js + css as sent with brotli, gzip and
#      none (curl; what a browser gets depends on what it offers);
#   2. Lighthouse (npm, pinned; mobile defaults: simulated throttling, Moto
#      G-class CPU) on /login and on the signed-in room page /rooms/general,
#      N runs each (default 3): performance score, FCP, LCP, TBT, CLS and the
#      bytes transferred, median of the runs;
#   3. the server-side render time of that room page: 500 sequential GETs
#      over one keep-alive connection (curl), p50 / p90 / p99.
# Prints one table; raw Lighthouse reports go to target/lighthouse/.
# A measurement, not a test: nothing here fails on a slow number.
#
# Needs: chromium (Debian), node/npm; installs lighthouse and ws from npm into
# target/lighthouse/ (not the repo). Loopback only; everything is bounded.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD=1
RUNS=3
while (($#)); do
  case $1 in
    --no-build) BUILD=0 ;;
    --runs) RUNS=$2; shift ;;
    *) echo "usage: bench/lighthouse.sh [--no-build] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

PORT=${HIBIKI_LH_PORT:-3100}
BASE="http://127.0.0.1:$PORT"
LH_VERSION=12.8.2
WS_VERSION=8.18.3
OUT="$ROOT/target/lighthouse"
mkdir -p "$OUT"

if ((BUILD)); then
  HIBIKI_SETUP_TEST_DEPS=1
  # shellcheck source=scripts/setup.sh
  source "$ROOT/scripts/setup.sh"
  echo "==> cargo leptos build --release --precompress"
  cargo leptos build --release --precompress
fi
[[ -x target/release/hibiki ]] || { echo "no target/release/hibiki: run without --no-build" >&2; exit 1; }

have=$(node -p "require('$OUT/node_modules/lighthouse/package.json').version" 2>/dev/null || true)
if [[ $have != "$LH_VERSION" ]] || [[ ! -d $OUT/node_modules/ws ]]; then
  echo "==> installing lighthouse@$LH_VERSION ws@$WS_VERSION into $OUT (npm)"
  npm install --prefix "$OUT" --no-audit --no-fund "lighthouse@$LH_VERSION" "ws@$WS_VERSION" >/dev/null
else
  echo "==> lighthouse $have already present in $OUT"
fi

DB="$OUT/bench-$$.db"
LOG="$OUT/server.log"
echo "==> starting target/release/hibiki on $BASE (log: $LOG)"
HIBIKI_DATABASE_URL="sqlite://$DB" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site \
  HIBIKI_FRAME_BURST=500 HIBIKI_LOGIN_PER_IP_PER_MIN=10000 RUST_LOG=warn \
  ./target/release/hibiki >"$LOG" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -f "$DB" "$DB-wal" "$DB-shm"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "$BASE/health" >/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

echo "==> signing up 'bench' and posting 50 messages to general"
TOKEN=$(curl -fs "$BASE/api/auth/register" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-password-1"}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
NODE_PATH="$OUT/node_modules" node - "$BASE" "$TOKEN" <<'EOF'
// Protocol v1 (docs/protocol.md): join, then 50 chat:send, each acked.
const WebSocket = require('ws');
const [base, token] = process.argv.slice(2);
const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?token=${token}`, { origin: base });
let sent = 0;
const send = () => ws.send(JSON.stringify({ type: 'chat:send', id: `m${sent}`, payload: {
  room: 'general',
  text: `Message ${sent + 1} of 50: a line of ordinary chat, long enough to wrap on a phone screen.`,
} }));
ws.on('open', () => ws.send(JSON.stringify({ type: 'room:join', id: 'j', payload: { room: 'general' } })));
ws.on('message', (data) => {
  const msg = JSON.parse(data);
  if (msg.type === 'error') { console.error(msg); process.exit(1); }
  if (msg.type !== 'ack') return;
  if (msg.id !== 'j') sent += 1;
  if (sent === 50) { ws.close(); return; }
  send();
});
ws.on('close', () => process.exit(sent === 50 ? 0 : 1));
setTimeout(() => { console.error('seeding timed out'); process.exit(1); }, 30000);
EOF

ROOM="$BASE/rooms/general"
COOKIE="hibiki_session=$TOKEN"

echo "==> first load: bundle bytes per encoding"
page=$(curl -fs -b "$COOKIE" "$ROOM")
mapfile -t files < <(grep -oE '/pkg/[A-Za-z0-9._-]+\.(wasm|js|css)' <<<"$page" | sort -u)
printf '    %-44s %10s %10s %10s\n' file none gzip br
declare -A total=([none]=0 [gzip]=0 [br]=0)
for f in "${files[@]}"; do
  row=()
  for enc in identity gzip br; do
    n=$(curl -fs -H "accept-encoding: $enc" -o /dev/null -w '%{size_download}' "$BASE$f")
    row+=("$n")
  done
  total[none]=$((total[none] + row[0]))
  total[gzip]=$((total[gzip] + row[1]))
  total[br]=$((total[br] + row[2]))
  printf '    %-44s %10s %10s %10s\n' "$f" "${row[@]}"
done
printf '    %-44s %10s %10s %10s\n' "total (budget: 300 KB)" "${total[none]}" "${total[gzip]}" "${total[br]}"

echo "==> Lighthouse $LH_VERSION, mobile defaults, $RUNS run(s) per page"
lh() { # name url [cookie]
  local name=$1 url=$2 headers=()
  [[ -n ${3:-} ]] && headers=(--extra-headers "{\"Cookie\": \"$3\"}")
  for i in $(seq 1 "$RUNS"); do
    CHROME_PATH=/usr/bin/chromium "$OUT/node_modules/.bin/lighthouse" "$url" \
      --only-categories=performance --output=json --output-path="$OUT/$name-$i.json" --quiet \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage" \
      "${headers[@]}" || { echo "lighthouse failed on $url" >&2; return 1; }
  done
  node - "$name" "$RUNS" "$OUT" <<'EOF'
const [name, runs, out] = process.argv.slice(2);
const reps = [...Array(Number(runs)).keys()].map((i) => require(`${out}/${name}-${i + 1}.json`));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const a = (r, id) => r.audits[id].numericValue;
const row = {
  score: med(reps.map((r) => Math.round(r.categories.performance.score * 100))),
  all: reps.map((r) => Math.round(r.categories.performance.score * 100)).join('/'),
  fcp: med(reps.map((r) => a(r, 'first-contentful-paint'))),
  lcp: med(reps.map((r) => a(r, 'largest-contentful-paint'))),
  tbt: med(reps.map((r) => a(r, 'total-blocking-time'))),
  cls: med(reps.map((r) => a(r, 'cumulative-layout-shift'))),
  kb: med(reps.map((r) => a(r, 'total-byte-weight'))) / 1000,
};
console.log(`    ${name.padEnd(14)} performance ${row.score} (runs ${row.all})  FCP ${(row.fcp / 1000).toFixed(2)} s  ` +
  `LCP ${(row.lcp / 1000).toFixed(2)} s  TBT ${Math.round(row.tbt)} ms  CLS ${row.cls.toFixed(3)}  ` +
  `transferred ${row.kb.toFixed(1)} KB`);
EOF
}
lh login "$BASE/login"
lh room "$ROOM" "$COOKIE"

echo "==> SSR of the room page (50 messages): 500 GETs, one keep-alive connection"
urls=()
for _ in $(seq 1 500); do urls+=(-o /dev/null "$ROOM"); done
curl -s -b "$COOKIE" -H 'accept-encoding: br' -w '%{time_total}\n' "${urls[@]}" |
  sort -n | awk '{ t[NR] = $1 * 1000 } END {
    printf "    p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%d)\n",
      t[int(NR * 0.5)], t[int(NR * 0.9)], t[int(NR * 0.99)], t[NR], NR }'
