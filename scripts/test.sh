#!/usr/bin/env bash
# Builds ROCmForge and runs the whole test suite: native tests (every ISA this CPU has), the arm64
# build with its tests under qemu, and a short fuzzing run of the GGUF parser over its corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
scripts/test-arm64.sh
fuzz/run.sh "${ROCMFORGE_FUZZ_SECONDS:-30}" >/dev/null 2>build-fuzz.log || { tail -50 build-fuzz.log; exit 1; }
echo "all tests passed"
