#!/usr/bin/env bash
# Cross-builds ROCmForge for arm64 (NEON kernels) and runs its unit tests under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=build-arm64
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
  -DROCMFORGE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"
# One process per test binary (ctest's one-per-test costs a qemu start each). The CLI tests
# spawn the rocmforge binary itself, which only the native suite can do.
for test in "$build"/bin/test_*; do
  [ "$(basename "$test")" = test_cli ] && continue
  echo "== $(basename "$test") (arm64, qemu)"
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$test" --gtest_brief=1 --gtest_filter='-*Cli*'
done
