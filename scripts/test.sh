#!/usr/bin/env bash
# Builds ROCmForge and runs the whole test suite (unit, reference, hostile-input and CLI tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
