#!/usr/bin/env bash
# Builds and runs the GGUF fuzzer (clang 14 + libclang-rt-14-dev), seeded with the committed
# hostile corpus. New interesting inputs go to a scratch folder, never into the repository;
# crashes land in $OUT as crash-*; copy a minimised one into tests/gguf/corpus/ as a regression.
#
#   fuzz/run.sh [seconds=300] [jobs=1]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build-fuzz}"
OUT="${OUT:-$BUILD/fuzz-out}"
SECONDS_TO_RUN="${1:-300}"
JOBS="${2:-1}"

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DROCMFORGE_BUILD_FUZZERS=ON -DROCMFORGE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target fuzz_gguf
mkdir -p "$OUT/corpus"
cd "$OUT"
PARALLEL=()
if [ "$JOBS" -gt 1 ]; then PARALLEL=(-jobs="$JOBS" -workers="$JOBS"); fi  # logs go to fuzz-N.log
# The first folder is the one libFuzzer writes to; the committed corpus only seeds.
"$BUILD/bin/fuzz_gguf" "$OUT/corpus" "$ROOT/tests/gguf/corpus" \
  -dict="$ROOT/fuzz/gguf.dict" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 "${PARALLEL[@]}"
