#!/usr/bin/env bash
# bench/profile.sh: a CPU profile of the Hibiki server during scenario A.
#
# Builds the server with the `profiling` profile (release + line tables) and
# frame pointers, runs scenario A once through run.sh with
# `perf record -e cpu-clock -g` attached to the server, and prints the top of
# the profile (flat, then by caller). Needs `perf` (Debian: linux-perf).
# SCENARIOS may name others (e.g. "A D"); perf data stays in /tmp.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCENARIOS=${SCENARIOS:-A}
PERF_OUT=${PERF_OUT:-/tmp/hibiki-perf.data}

RUSTFLAGS="-C force-frame-pointers=yes" cargo build --profile profiling -p server --bin hibiki
cargo build --release -p bench --bin hibiki-bench
HIBIKI_BIN="$ROOT/target/profiling/hibiki" PERF_OUT="$PERF_OUT" RUNS=1 SCENARIOS="$SCENARIOS" \
  TARGETS=hibiki TITLE="Profiled run" OUT=/tmp/hibiki-profiled-results.md SKIP_BUILD=1 bench/run.sh

for s in $SCENARIOS; do
  data="$PERF_OUT.$s-1"
  echo "==== $s: flat (self time)"
  perf report -i "$data" --stdio --no-children --sort symbol --percent-limit 1.5 -g none 2>/dev/null | grep -v '^$' | head -40
  echo "==== $s: by caller"
  perf report -i "$data" --stdio --no-children --sort symbol --percent-limit 3 -g caller,0.5,callee,function,percent 2>/dev/null | grep -v '^$' | head -150
done
