#!/usr/bin/env bash
# scripts/test.sh: the whole check, as CI runs it (.ci/run calls this).
#
# Steps, in order, stopping at the first failure:
#   setup -> fmt -> clippy (workspace, ssr, hydrate/wasm) -> cargo test
#   -> cargo leptos build --release --precompress -> Playwright end-to-end
# Each step prints a banner and its time; the end prints one summary line per
# step and the total wall time. A failure names the step that failed.
#
# Cheap checks come first so a formatting slip fails in seconds, not after a
# 6-minute release build.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# proptest's default of 256 cases per property is slow on a 2-core box;
# 64 still explores well. An explicit PROPTEST_CASES wins.
export PROPTEST_CASES="${PROPTEST_CASES:-64}"
# Full backtraces if a test panics, so a CI log is enough to debug it.
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}
fmt_s() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

TOTAL_START=$(now_ms)
CURRENT_STEP=""
STEP_START=0
SUMMARY=()

step_begin() {
  CURRENT_STEP=$1
  STEP_START=$(now_ms)
  echo
  echo "================================================================"
  echo "==> [$((${#SUMMARY[@]} + 1))] $CURRENT_STEP"
  echo "================================================================"
}

step_end() {
  local ms=$(($(now_ms) - STEP_START))
  SUMMARY+=("$(printf '  ok    %10s  %s' "$(fmt_s "$ms")" "$CURRENT_STEP")")
  echo "==> ok: $CURRENT_STEP ($(fmt_s "$ms"))"
  CURRENT_STEP=""
}

# Runs one command as a step. Under `set -e` a failing command exits the
# script, and the EXIT trap below reports which step it was.
step() {
  local name=$1
  shift
  step_begin "$name"
  "$@"
  step_end
}

print_summary() {
  echo
  echo "==> summary"
  local line
  for line in "${SUMMARY[@]}"; do
    echo "$line"
  done
}

on_exit() {
  local rc=$1
  if ((rc != 0)) && [[ -n $CURRENT_STEP ]]; then
    local ms=$(($(now_ms) - STEP_START))
    SUMMARY+=("$(printf '  FAIL  %10s  %s' "$(fmt_s "$ms")" "$CURRENT_STEP")")
    print_summary
    echo "==> total $(fmt_s $(($(now_ms) - TOTAL_START)))"
    echo "==> FAILED: step '$CURRENT_STEP' exited with status $rc" >&2
  fi
}
trap 'on_exit $?' EXIT

# Sourced (not run in a subshell) so that its PATH export reaches the steps
# below: npm's wasm-opt 132 must be found before any Debian binaryen.
step_begin "setup (scripts/setup.sh, with test packages)"
HIBIKI_SETUP_TEST_DEPS=1
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
step_end

step "cargo fmt --all --check" \
  cargo fmt --all --check

# Host build of every crate; `app` is unified to ssr+hydrate here.
step "cargo clippy --workspace --all-targets" \
  cargo clippy --workspace --all-targets -- -D warnings

# The server's real feature set: code behind cfg(feature = "ssr") only.
step "cargo clippy (ssr: server + app/ssr)" \
  cargo clippy -p server -p app --features app/ssr --all-targets -- -D warnings

# The browser's real feature set, compiled for wasm as cargo-leptos does.
step "cargo clippy (hydrate: frontend + app/hydrate, wasm32)" \
  cargo clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

# `cargo leptos test` would skip the app crate's tests (toolchain.md P10).
# Per feature set, like clippy: `cargo test --workspace` would unify `app` to
# ssr+hydrate, and a server rendering with hydrate code paths is not the
# server we ship.
step "cargo test -p protocol -p server -p bench (PROPTEST_CASES=$PROPTEST_CASES)" \
  cargo test -p protocol -p server -p bench
# The whole integration suite again, each server on a fresh database of a
# temporary PostgreSQL cluster (server/tests/common/pg.rs); the few tests
# that need a file of their own (restarts, the CLI) stay on SQLite.
# Same packages as above, so the test binaries are reused, not rebuilt.
# Skipped here: the two firehose tests (2,000 and 5,000 big messages to a
# client that stops reading). They test socket back-pressure, not the store,
# and take ~95 % of the suite's time (CPU-bound in the debug build): ~10 min
# more on PostgreSQL for nothing the SQLite run does not already check.
step "cargo test: the integration suite on PostgreSQL" \
  env HIBIKI_TEST_STORE=postgres \
  cargo test -p protocol -p server -p bench -- \
  --skip a_client_that_stops_reading --skip a_client_that_never_reads
step "cargo test -p app --features ssr" \
  cargo test -p app --features ssr

# Builds the server (release) and the wasm (wasm-release) together, so the
# hydration code always matches the server's HTML (toolchain.md P9).
# --precompress: the .br/.gz files the server sends (end2end/tests/assets.spec.ts).
step "cargo leptos build --release --precompress" \
  cargo leptos build --release --precompress

# CI=1: Playwright starts ./target/release/hibiki itself (webServer in
# end2end/playwright.config.ts) and refuses to reuse a server already on
# :3000, so the suite always tests the binary just built.
e2e() (
  cd "$ROOT/end2end"
  CI=1 npx playwright test
)
step "end-to-end (Playwright, chromium)" e2e

print_summary
echo "==> total $(fmt_s $(($(now_ms) - TOTAL_START)))"
echo "==> all steps passed"
