#!/usr/bin/env bash
# Builds and runs the fuzzers (clang 14 + libclang-rt-14-dev), a third of the time each: the GGUF
# parser, seeded with its committed hostile corpus; the tokenizer, seeded with fuzz/corpus/tokenizer
# and the llama.cpp test texts in the shared folder; the chat templates, seeded with
# fuzz/corpus/chat_template and the real templates in tests/chat/templates. New interesting inputs go
# to scratch folders, never into the repository. Crashes land as crash-*: the GGUF parser's in $OUT
# (copy a minimised one into tests/gguf/corpus/), the others' in $OUT/tokenizer and $OUT/chat_template
# (into fuzz/corpus/tokenizer/ or fuzz/corpus/chat_template/) as regressions.
#
#   fuzz/run.sh [seconds=300] [jobs=1]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build-fuzz}"
OUT="${OUT:-$BUILD/fuzz-out}"
SHARED="${ROCMFORGE_SHARED_DIR:-$ROOT/../shared}"  # seeds only; the build reads its own cache entry
SECONDS_TO_RUN="${1:-300}"
JOBS="${2:-1}"
TOKENIZER_SECONDS=$((SECONDS_TO_RUN / 3))
CHAT_SECONDS=$((SECONDS_TO_RUN / 3))
GGUF_SECONDS=$((SECONDS_TO_RUN - TOKENIZER_SECONDS - CHAT_SECONDS))

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DROCMFORGE_BUILD_FUZZERS=ON -DROCMFORGE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target fuzz_gguf fuzz_tokenizer fuzz_chat_template
mkdir -p "$OUT/corpus" "$OUT/tokenizer/corpus" "$OUT/chat_template/corpus"
PARALLEL=()
if [ "$JOBS" -gt 1 ]; then PARALLEL=(-jobs="$JOBS" -workers="$JOBS"); fi  # logs go to fuzz-N.log
COMMON=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${PARALLEL[@]}")
# Each fuzzer runs in its own folder (crashes and job logs land there); the first corpus folder is
# the one libFuzzer writes to, the others only seed. All run even if an earlier one finds something.
status=0
(cd "$OUT" && "$BUILD/bin/fuzz_gguf" "$OUT/corpus" "$ROOT/tests/gguf/corpus" \
  -dict="$ROOT/fuzz/gguf.dict" -max_len=8192 -max_total_time="$GGUF_SECONDS" "${COMMON[@]}") || status=1
SEEDS=("$ROOT/fuzz/corpus/tokenizer")
if [ -d "$SHARED/reference/tokenizer" ]; then SEEDS+=("$SHARED/reference/tokenizer"); fi
(cd "$OUT/tokenizer" && "$BUILD/bin/fuzz_tokenizer" "$OUT/tokenizer/corpus" "${SEEDS[@]}" \
  -dict="$ROOT/fuzz/tokenizer.dict" -max_len=512 -max_total_time="$TOKENIZER_SECONDS" "${COMMON[@]}") || status=1
(cd "$OUT/chat_template" && "$BUILD/bin/fuzz_chat_template" "$OUT/chat_template/corpus" \
  "$ROOT/fuzz/corpus/chat_template" "$ROOT/tests/chat/templates" \
  -dict="$ROOT/fuzz/chat_template.dict" -max_len=4096 -max_total_time="$CHAT_SECONDS" "${COMMON[@]}") || status=1
exit "$status"
