# Shared by the server integration tests: start `rocmforge serve` on a free port, stop it, count checks.
# Sourced; expects BIN (the rocmforge binary) and MODEL (a GGUF path) to be set.

SERVERS=()
LOGS=()
PASSED=0
FAILED=0

# start_server NAME [serve flags...]: sets ${NAME}_PORT and ${NAME}_LOG; fails the run if the
# server does not print its "listening on" line within 20 s.
start_server() {
  local name=$1
  shift
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/rf_serve_${name}_XXXXXX.log")
  LOGS+=("$log")
  "$BIN" serve -m "$MODEL" --port 0 -t 1 "$@" 2>"$log" &
  local pid=$!
  SERVERS+=("$pid")
  local port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's|^listening on http://[^:]*:\([0-9]*\)$|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break  # it exited
    sleep 0.1
  done
  if [ -z "$port" ] && grep -q "without HTTP support" "$log"; then
    echo "SKIP: this rocmforge was built without cpp-httplib (scripts/install-deps.sh installs libcpp-httplib-dev)"
    exit 77
  fi
  if [ -z "$port" ]; then
    echo "server $name did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  printf -v "${name}_PORT" '%s' "$port"
  printf -v "${name}_LOG" '%s' "$log"
}

stop_servers() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "${LOGS[@]}"
}
trap stop_servers EXIT

# check NAME COMMAND...: runs the command; counts and reports the result.
check() {
  local name=$1
  shift
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    echo "FAILED: $name" >&2
  fi
}

# finish: the summary line ctest's log shows, and the exit status.
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
