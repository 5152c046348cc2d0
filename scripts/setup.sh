#!/usr/bin/env bash
# scripts/setup.sh: install everything Hibiki needs to build, run and test.
#
# Idempotent: each step checks first and prints either
#   ==> installing X
#   ==> X already present (version)
# so a warm machine gets through it in a couple of seconds.
#
# Usage:
#   scripts/setup.sh [--no-test-deps]      install; prints the PATH line to use
#   source scripts/setup.sh                from another script (not an interactive
#                                          shell: it turns on set -euo pipefail);
#                                          also exports PATH with
#                                          end2end/node_modules/.bin first
# When sourced, arguments are ignored (they would be the caller's); set
# HIBIKI_SETUP_TEST_DEPS=0 instead to skip the test-only packages
# (chromium, redis-server, postgresql, nginx-light), as scripts/run.sh does.
#
# Only crates.io, npm, PyPI and Debian apt are reachable (see
# shared/toolchain.md), so nothing here downloads from GitHub: cargo-leptos is
# built with `no_downloads` and finds wasm-bindgen and wasm-opt on PATH.

set -euo pipefail

# Versions that must match each other (shared/toolchain.md).
HIBIKI_CARGO_LEPTOS_VERSION=0.3.11
# Must equal the `wasm-bindgen = "=…"` pin in Cargo.toml: cargo-leptos runs
# whatever wasm-bindgen is on PATH without checking its version.
HIBIKI_WASM_BINDGEN_VERSION=0.2.130
# npm binaryen@132 provides wasm-opt. Debian's binaryen (108) silently breaks
# the wasm (toolchain.md P5), so ours must come first on PATH.
HIBIKI_WASM_OPT_MAJOR=132

HIBIKI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---------------------------------------------------------------- helpers ---

# Wall clock in milliseconds (bash 5's EPOCHREALTIME: no subprocess).
_hs_now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

# Runs one setup step and prints its wall time.
_hs_step() {
  local label=$1 started ms
  shift
  started=$(_hs_now_ms)
  "$@"
  ms=$(($(_hs_now_ms) - started))
  printf '    %s: %d.%01d s\n' "$label" $((ms / 1000)) $((ms % 1000 / 100))
}

_hs_die() {
  echo "setup.sh: error: $*" >&2
  exit 1
}

# Version of an installed Debian package, or nothing.
_hs_deb_version() {
  # dpkg-query fails for a package it has never seen; that just means "absent".
  { dpkg-query -W -f='${Status}\t${Version}\n' "$1" 2>/dev/null || true; } |
    awk -F'\t' '$1 == "install ok installed" { print $2 }'
}

# ------------------------------------------------------------------ steps ---

_hs_apt() {
  local with_test_deps=$1
  # brotli is used for every build; the rest only by the test suite
  # (chromium drives Playwright; redis/postgres back the integration tests;
  # nginx-light fronts the multi-node failover tests and scripts/cluster.sh).
  local -a wanted=(brotli)
  if [[ $with_test_deps == 1 ]]; then
    wanted+=(chromium redis-server postgresql nginx-light)
  else
    echo "==> skipping test-only packages (chromium, redis-server, postgresql, nginx-light)"
  fi
  hibiki_apt_ensure "${wanted[@]}"
}

# Installs those of the given Debian packages that are missing, saying which
# were present (with their version) and which it installs. Also used by
# scripts/cluster.sh.
hibiki_apt_ensure() {
  local -a missing=()
  local pkg version
  for pkg in "$@"; do
    version=$(_hs_deb_version "$pkg")
    if [[ -n $version ]]; then
      echo "==> $pkg already present ($version)"
    else
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi

  echo "==> installing ${missing[*]} (apt)"
  local -a sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || _hs_die "need root or sudo to install: ${missing[*]}"
    sudo=(sudo)
  fi
  # One `apt-get update`, and only because something must be installed.
  # The lock timeout waits for another apt run instead of failing at once.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
  for pkg in "${missing[@]}"; do
    echo "    $pkg $(_hs_deb_version "$pkg")"
  done
}

_hs_rust() {
  if ! command -v rustup >/dev/null || ! command -v cargo >/dev/null; then
    _hs_die "rustup and cargo are required (stable toolchain); they are not installed here"
  fi

  # The frontend crate is compiled to wasm; clippy and rustfmt are used by test.sh.
  # Listings are captured first: `cmd | grep -q` can fail under pipefail when
  # grep exits early and cmd gets SIGPIPE.
  local targets components
  targets=$(rustup target list --installed)
  components=$(rustup component list --installed)
  if grep -qx wasm32-unknown-unknown <<<"$targets"; then
    echo "==> rust target wasm32-unknown-unknown already present ($(rustc --version))"
  else
    echo "==> installing rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  local comp
  for comp in clippy rustfmt; do
    if grep -q "^${comp}-" <<<"$components"; then
      echo "==> rust component $comp already present"
    else
      echo "==> installing rust component $comp"
      rustup component add "$comp"
    fi
  done
}

_hs_cargo_leptos() {
  local have
  have=$(cargo leptos --version 2>/dev/null | awk '{ print $2 }' || true)
  if [[ $have == "$HIBIKI_CARGO_LEPTOS_VERSION" ]]; then
    echo "==> cargo-leptos already present ($have)"
    return 0
  fi
  echo "==> installing cargo-leptos $HIBIKI_CARGO_LEPTOS_VERSION${have:+ (found $have)}; about 12 min on 2 cores"
  # toolchain.md P1-P3:
  # --locked --ignore-rust-version: unlocked resolution picks crates needing a
  #   newer rustc; the locked cargo-util-schemas 0.14.2 builds fine on 1.95.
  # LTO off, 16 codegen units: the crate's own profile (fat LTO, 1 CGU, swc)
  #   takes far longer on 2 cores.
  # no_downloads: a missing tool is an error instead of a GitHub download.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$HIBIKI_CARGO_LEPTOS_VERSION" \
    --locked --ignore-rust-version --features no_downloads
}

_hs_wasm_bindgen() {
  # Fail early if Cargo.lock wants another wasm-bindgen than the CLI we pin: the
  # build would otherwise stop inside cargo-leptos with a schema mismatch.
  local locked=""
  if [[ -f $HIBIKI_ROOT/Cargo.lock ]]; then
    locked=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' \
      "$HIBIKI_ROOT/Cargo.lock")
  fi
  if [[ -n $locked && $locked != "$HIBIKI_WASM_BINDGEN_VERSION" ]]; then
    _hs_die "Cargo.lock has wasm-bindgen $locked but setup.sh installs the CLI $HIBIKI_WASM_BINDGEN_VERSION; keep Cargo.toml's \"=$HIBIKI_WASM_BINDGEN_VERSION\" pin or change both"
  fi

  local have
  have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
  if [[ $have == "$HIBIKI_WASM_BINDGEN_VERSION" ]]; then
    echo "==> wasm-bindgen-cli already present ($have)"
    return 0
  fi
  echo "==> installing wasm-bindgen-cli $HIBIKI_WASM_BINDGEN_VERSION${have:+ (found $have)}; about 2 min"
  # Unlocked on purpose (toolchain.md P4): its lock names a webpki-roots
  # version that is absent from the crates.io index.
  cargo install wasm-bindgen-cli --version "$HIBIKI_WASM_BINDGEN_VERSION"
}

_hs_npm() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    _hs_die "node (>= 20) and npm are required for the end2end suite and wasm-opt"
  fi
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  ((node_major >= 20)) || _hs_die "node >= 20 is required by @playwright/test; found $(node --version)"

  local dir=$HIBIKI_ROOT/end2end
  local stamp=$dir/node_modules/.hibiki-npm-ci.stamp
  # The stamp records what node_modules was installed from; a changed lock
  # file or node version means `npm ci` must run again.
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    echo "==> npm packages already present (end2end/node_modules matches package-lock.json)"
    return 0
  fi
  echo "==> installing npm packages in end2end (npm ci: @playwright/test, binaryen)"
  # Playwright's browser download comes from a CDN that is not reachable; the
  # suite uses Debian's /usr/bin/chromium instead.
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  echo "$want" >"$stamp"
}

_hs_path() {
  local bin=$HIBIKI_ROOT/end2end/node_modules/.bin
  local cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
  # cargo-installed tools (cargo-leptos, wasm-bindgen) must be found too.
  case ":$PATH:" in *":$cargo_bin:"*) ;; *) export PATH="$cargo_bin:$PATH" ;; esac
  # npm's wasm-opt first, ahead of any Debian binaryen in /usr/bin.
  export PATH="$bin:$PATH"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

  local wasm_opt version
  wasm_opt=$(command -v wasm-opt || true)
  [[ $wasm_opt == "$bin/wasm-opt" ]] || _hs_die "wasm-opt on PATH is '${wasm_opt:-none}', expected $bin/wasm-opt"
  version=$(wasm-opt --version)
  [[ $version == *"version $HIBIKI_WASM_OPT_MAJOR"* ]] ||
    _hs_die "wasm-opt reports '$version', expected binaryen $HIBIKI_WASM_OPT_MAJOR"
  echo "==> wasm-opt on PATH: $version (end2end/node_modules/.bin)"
  if [[ -x /usr/bin/wasm-opt ]]; then
    echo "    note: Debian's binaryen is installed too; it is shadowed on PATH and never used"
  fi
}

# ------------------------------------------------------------------- main ---

hibiki_setup() {
  local with_test_deps=${HIBIKI_SETUP_TEST_DEPS:-1}
  local arg
  for arg in "$@"; do
    case $arg in
      --no-test-deps) with_test_deps=0 ;;
      -h | --help)
        sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
      *) _hs_die "unknown argument: $arg (try --help)" ;;
    esac
  done

  local started
  started=$(_hs_now_ms)
  echo "==> setup: $HIBIKI_ROOT (test-only packages: $([[ $with_test_deps == 1 ]] && echo yes || echo no))"

  _hs_step "apt packages" _hs_apt "$with_test_deps"
  _hs_step "rust target and components" _hs_rust
  _hs_step "cargo-leptos" _hs_cargo_leptos
  _hs_step "wasm-bindgen-cli" _hs_wasm_bindgen
  _hs_step "npm packages" _hs_npm
  _hs_step "PATH" _hs_path

  local ms=$(($(_hs_now_ms) - started))
  printf '==> setup done in %d.%01d s\n' $((ms / 1000)) $((ms % 1000 / 100))
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # Executed: arguments are ours. PATH cannot reach the caller, so say it.
  hibiki_setup "$@"
  echo "==> in your shell: export PATH=\"$HIBIKI_ROOT/end2end/node_modules/.bin:\$PATH\""
else
  # Sourced: the caller's arguments are not ours; use HIBIKI_SETUP_TEST_DEPS.
  hibiki_setup
fi
