#!/usr/bin/env bash
# End-to-end test of `rocmforge serve` with the official `openai` npm client (openai_client.test.mjs
# under node's test runner). Usage: openai_test.sh ROCMFORGE_BIN MODEL.gguf
# Installs the pinned client with `npm ci` when node_modules is missing; exits 77 (ctest's skip)
# when node or npm is not installed.
set -uo pipefail
BIN=$1
MODEL=$2
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh installs Node.js and npm)"
    exit 77
  fi
done
# One install at a time when several test runs start together.
(
  flock 9
  if [ ! -d "$HERE/node_modules/openai" ]; then
    (cd "$HERE" && npm ci --no-audit --no-fund >&2) || { echo "npm ci failed" >&2; exit 1; }
  fi
) 9>"$HERE/.npm-install.lock" || exit 1
source "$HERE/server_common.sh"

start_server main --api-key node-test-key
start_server busy --np 1 --max-queue 1
RF_PORT=$main_PORT RF_BUSY_PORT=$busy_PORT RF_KEY=node-test-key RF_MODEL_NAME=$(basename "$MODEL") \
  node --test --test-reporter=spec "$HERE/openai_client.test.mjs"
