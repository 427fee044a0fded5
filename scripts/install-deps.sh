#!/usr/bin/env bash
# Installs the Debian 12 packages ROCmForge builds and tests with; does nothing when all are present.
set -euo pipefail

packages=(
  cmake g++ make libgtest-dev libgmock-dev googletest libbenchmark-dev nlohmann-json3-dev libcli11-dev
  clang libclang-rt-14-dev            # libFuzzer for the parser fuzzers
  g++-aarch64-linux-gnu qemu-user     # arm64 (NEON) build and tests under emulation
  libopenblas0-pthread libblis4-pthread libdnnl2  # optional f32/f16 prefill back ends (dlopened, not linked)
  libcpp-httplib-dev pkg-config curl jq  # rocmforge serve, and its HTTP integration test
)
# The server's OpenAI-client test runs on Node.js; a Node.js that is already there (NodeSource's
# bundles npm and conflicts with Debian's npm package) is kept.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
