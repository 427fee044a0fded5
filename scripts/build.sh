#!/usr/bin/env bash
# Configures and builds ROCmForge (Release) into build/; the binary is build/bin/rocmforge.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
