#!/usr/bin/env bash
# Builds ROCmForge and generates text with the small model in ../shared/models/ (or pass your own flags).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if [ $# -eq 0 ]; then
  set -- -p "Once upon a time" -n 128
fi
exec build/bin/rocmforge run "$@"
