#!/usr/bin/env bash
# scripts/run.sh: build Hibiki in release mode and run it.
#
#   scripts/run.sh [hibiki flags…]     e.g. scripts/run.sh --help
#
# Environment read by the server (defaults in brackets):
#   LEPTOS_SITE_ADDR     [127.0.0.1:3000]
#   LEPTOS_SITE_ROOT     [target/site]
#   HIBIKI_DATABASE_URL  [sqlite://hibiki.db]  (created on first run)
#   RUST_LOG             [info,tower_http=info]
#
# For development use `cargo leptos watch` instead (see README.md): it
# rebuilds and restarts on every save.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The server resolves target/site and hibiki.db relative to its working
# directory, so it must run from the workspace root.
cd "$ROOT"

# Running needs no browser and no databases: skip the test-only packages.
HIBIKI_SETUP_TEST_DEPS=0
# Sourced so its PATH export (npm's wasm-opt first) applies to the build.
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"

echo "==> cargo leptos build --release --precompress"
build_started=$SECONDS
# Builds the server and the wasm bundle together so they always match.
# --precompress writes a .br and a .gz next to every file of the site once,
# here; the server sends those and never compresses a static file itself.
cargo leptos build --release --precompress
echo "    ($((SECONDS - build_started)) s)"

echo "==> Hibiki on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
# exec: the server gets Ctrl-C / SIGTERM directly and shuts down gracefully.
exec ./target/release/hibiki "$@"
