#!/usr/bin/env bash
# End-to-end test of `rocmforge serve` over HTTP with curl (and jq for JSON): both completion
# endpoints streamed and not, stop strings, seeds, every error path, /metrics, /tokenize, client
# disconnects and stalled clients. Usage: curl_test.sh ROCMFORGE_BIN MODEL.gguf
# Exits 77 (ctest's skip) when curl or jq is missing.
set -uo pipefail
BIN=$1
MODEL=$2
for tool in curl jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
    exit 77
  fi
done
source "$(dirname "$0")/server_common.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rf_curl_test_XXXXXX")
trap 'stop_servers; rm -rf "$WORK"' EXIT
MODEL_NAME=$(basename "$MODEL")
KEY=secret-test-key

# The main server wants an API key; "small" has a 64-position pool; "busy" has one slot and a
# one-request queue; "strict" has a small body limit and a 1 s socket timeout.
start_server main --api-key "$KEY"
start_server small -c 64
start_server busy --np 1 --max-queue 1
start_server strict --max-body-size 4096 --timeout 1

# call PORT METHOD PATH [BODY] [curl args...]: the response body in $WORK/body, headers in
# $WORK/headers, the status in STATUS.
call() {
  local port=$1 method=$2 path=$3
  shift 3
  local body_args=()
  if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
    body_args=(--data-binary "$1")
    shift
  fi
  STATUS=$(curl -sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" \
    -H "Content-Type: application/json" "${body_args[@]}" "$@" "http://127.0.0.1:$port$path")
}
auth=(-H "Authorization: Bearer $KEY")
main() { call "$main_PORT" "$@" "${auth[@]}"; }
json_is() { jq -e "$2" "$1" >/dev/null; }
body_is() { json_is "$WORK/body" "$1"; }
# The JSON events of an SSE body (without the final [DONE]) as one array.
events() { sed -n 's/^data: //p' "$WORK/body" | grep -v '^\[DONE\]$' | jq -s .; }
last_data_is_done() { [ "$(grep '^data: ' "$WORK/body" | tail -n 1)" = "data: [DONE]" ]; }

# --- health, models, authentication ---
call "$main_PORT" GET /health
check "health is open without a key" test "$STATUS" = 200
check "health body" body_is '.status == "ok"'
call "$main_PORT" GET /v1/models
check "401 without a key" test "$STATUS" = 401
check "401 error schema" body_is '.error.type == "authentication_error" and (.error.message | length > 0) and has("error")'
call "$main_PORT" GET /v1/models -H "Authorization: Bearer wrong"
check "401 with a wrong key" test "$STATUS" = 401
main GET /v1/models
check "models with the key" test "$STATUS" = 200
check "models lists the file" body_is ".object == \"list\" and .data[0].id == \"$MODEL_NAME\" and .data[0].object == \"model\""
main GET "/v1/models/$MODEL_NAME"
check "one model by id" body_is ".id == \"$MODEL_NAME\""
main GET "/v1/models/other%FF"
check "an unknown model is 404" test "$STATUS" = 404
check "unknown model schema" body_is '.error.code == "model_not_found"'

# --- completions ---
completion='{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0.9, "seed": 7}'
main POST /v1/completions "$completion"
check "completion 200" test "$STATUS" = 200
check "completion shape" body_is ".object == \"text_completion\" and (.id | startswith(\"cmpl-\")) and .model == \"$MODEL_NAME\"
  and (.created | type == \"number\") and (.choices | length == 1) and (.choices[0].text | length > 0)"
check "completion usage" body_is '.usage.completion_tokens == 24 and .usage.total_tokens == .usage.prompt_tokens + 24
  and .choices[0].finish_reason == "length" and (.usage.prompt_tokens_details.cached_tokens | type == "number")'
text=$(jq -r '.choices[0].text' "$WORK/body")
main POST /v1/completions "$completion"
check "same seed, same text" test "$(jq -r '.choices[0].text' "$WORK/body")" = "$text"
main POST /v1/completions '{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0.9, "seed": 8}'
check "another seed, another text" test "$(jq -r '.choices[0].text' "$WORK/body")" != "$text"

main POST /v1/completions "${completion%\}}, \"stream\": true, \"stream_options\": {\"include_usage\": true}}" -N
check "stream 200" test "$STATUS" = 200
check "stream content type" grep -qi '^content-type: text/event-stream' "$WORK/headers"
check "stream ends with [DONE]" last_data_is_done
events > "$WORK/events.json"
check "streamed text equals the non-streamed text" \
  test "$(jq -j '[.[] | .choices[]?.text] | join("")' "$WORK/events.json")" = "$text"
check "stream finish and usage chunks" json_is "$WORK/events.json" '(.[-2].choices[0].finish_reason == "length") and (.[-1].choices == [])
  and .[-1].usage.completion_tokens == 24 and ([.[] | .id] | unique | length == 1)'

# Prompt as token ids gives the same result as the text it encodes.
main POST /tokenize '{"content": "Once upon a time", "add_special": true}'
ids=$(jq -c '.tokens' "$WORK/body")
main POST /v1/completions "{\"prompt\": $ids, \"max_tokens\": 24, \"temperature\": 0.9, \"seed\": 7}"
check "token-id prompt" test "$(jq -r '.choices[0].text' "$WORK/body")" = "$text"

# --- chat ---
chat='{"messages": [{"role": "system", "content": "You tell stories."}, {"role": "user", "content": "Tell me about a cat."}],
       "max_tokens": 20, "temperature": 0.8, "seed": 11, "logprobs": true, "top_logprobs": 2}'
main POST /v1/chat/completions "$chat"
check "chat 200" test "$STATUS" = 200
check "chat shape" body_is '.object == "chat.completion" and (.id | startswith("chatcmpl-"))
  and .choices[0].message.role == "assistant" and (.choices[0].message.content | type == "string")
  and (.choices[0].finish_reason == "stop" or .choices[0].finish_reason == "length")'
check "chat logprobs, one per token" body_is '(.choices[0].logprobs.content | length) == .usage.completion_tokens
  and all(.choices[0].logprobs.content[]; (.logprob <= 0) and (.top_logprobs | length == 2) and (.bytes | length > 0))'
chat_text=$(jq -r '.choices[0].message.content' "$WORK/body")
main POST /v1/chat/completions "${chat%\}}, \"stream\": true}" -N
events > "$WORK/events.json"
check "chat stream starts with the role" json_is "$WORK/events.json" '.[0].choices[0].delta.role == "assistant" and .[0].object == "chat.completion.chunk"'
check "chat stream ends with finish_reason and an empty delta" \
  json_is "$WORK/events.json" '.[-1].choices[0].finish_reason != null and .[-1].choices[0].delta == {}'
check "chat streamed text equals the non-streamed text" \
  test "$(jq -j '[.[] | .choices[0].delta.content // ""] | join("")' "$WORK/events.json")" = "$chat_text"
check "chat stream ends with [DONE]" last_data_is_done

# --- stop strings: cut the greedy text at a piece of itself ---
main POST /v1/completions '{"prompt": "Once upon a time", "max_tokens": 48, "temperature": 0}'
greedy=$(jq -r '.choices[0].text' "$WORK/body")
stop=${greedy:20:5}
expected=${greedy%%"$stop"*}
stop_json=$(jq -n --arg s "$stop" '$s')
main POST /v1/completions "{\"prompt\": \"Once upon a time\", \"max_tokens\": 48, \"temperature\": 0, \"stop\": [\"zzzz\", $stop_json]}"
check "stop string cuts the text" test "$(jq -r '.choices[0].text' "$WORK/body")" = "$expected"
check "stop string finish_reason" body_is '.choices[0].finish_reason == "stop"'
main POST /v1/completions "{\"prompt\": \"Once upon a time\", \"max_tokens\": 48, \"temperature\": 0, \"stop\": $stop_json, \"stream\": true}" -N
events > "$WORK/events.json"
check "streamed stop string" test "$(jq -j '[.[] | .choices[0].text] | join("")' "$WORK/events.json")" = "$expected"
check "streamed stop finish_reason" json_is "$WORK/events.json" '.[-1].choices[0].finish_reason == "stop"'

# --- max_tokens beyond the context is capped and ends with "length" ---
call "$small_PORT" POST /v1/completions '{"prompt": "Once upon a time", "max_tokens": 100000, "temperature": 0}'
check "capped by the context" body_is '.usage.prompt_tokens + .usage.completion_tokens == 64 and .choices[0].finish_reason == "length"'
call "$small_PORT" POST /v1/completions "{\"prompt\": $(jq -nc '[range(70) | 1]'), \"max_tokens\": 4}"
check "oversize prompt is 400" test "$STATUS" = 400
check "oversize prompt names the prompt" body_is '.error.param == "prompt" and (.error.message | test("context"))'

# --- request errors ---
bad_request() {  # NAME BODY PARAM
  main POST /v1/completions "$2"
  check "$1: 400" test "$STATUS" = 400
  check "$1: names $3" body_is ".error.type == \"invalid_request_error\" and .error.param == \"$3\"
    and (.error.message | length > 0) and has(\"error\")"
}
bad_request "malformed JSON" '{"prompt": "x", "max_tokens": }' "max_tokens"
bad_request "wrong type" '{"prompt": "x", "max_tokens": "ten"}' "max_tokens"
bad_request "out of range" '{"prompt": "x", "temperature": 7}' "temperature"
bad_request "n > 1" '{"prompt": "x", "n": 2}' "n"
bad_request "five stops" '{"prompt": "x", "stop": ["a", "b", "c", "d", "e"]}' "stop"
bad_request "unknown token id" '{"prompt": [1, 99999]}' "prompt[1]"
bad_request "several prompts" '{"prompt": ["a", "b"]}' "prompt"
bad_request "invalid UTF-8" "$(printf '{"prompt": "bad \xff byte"}')" "prompt"
main POST /v1/chat/completions '{"messages": [{"role": "user", "content": "\ud800"}]}'
check "lone surrogate escape: 400 naming the field" body_is '.error.param == "messages[0].content"'
main POST /v1/completions '[1, 2]'
check "non-object body: 400" test "$STATUS" = 400
main GET /v1/nothing
check "404" test "$STATUS" = 404
check "404 schema" body_is '.error.code == "not_found"'
head -c 8192 /dev/zero | tr '\0' ' ' > "$WORK/big.json"
call "$strict_PORT" POST /v1/completions "@$WORK/big.json"
check "413 body too large" test "$STATUS" = 413
check "413 schema" body_is '.error.code == "request_too_large" and (.error.message | test("4096"))'
head -c 9000 /dev/zero | tr '\0' ' ' > "$WORK/form.txt"
STATUS=$(curl -sS -o "$WORK/body" -w '%{http_code}' --data-binary "@$WORK/form.txt" "${auth[@]}" \
  "http://127.0.0.1:$main_PORT/v1/completions")
check "413 for a large form-encoded body says to send JSON" \
  body_is '.error.code == "request_too_large" and (.error.message | test("application/json"))'

# --- every prefix of a valid body is refused with a 400, and random bytes too ---
valid='{"messages": [{"role": "user", "content": "caf\u00e9 Ã©"}], "max_tokens": 3, "stop": ["a"], "seed": 1}'
only400=1
for cut in $(seq 0 3 $(( ${#valid} - 2 ))); do
  call "$strict_PORT" POST /v1/chat/completions "${valid:0:$cut}"
  [ "$STATUS" = 400 ] || { only400=0; echo "prefix of $cut bytes: $STATUS" >&2; }
done
for i in $(seq 1 10); do
  head -c $((i * 37)) /dev/urandom > "$WORK/random.bin"
  call "$strict_PORT" POST /v1/completions "@$WORK/random.bin"
  [ "$STATUS" = 400 ] || { only400=0; echo "random body $i: $STATUS" >&2; }
done
check "truncated and random bodies: 400 each" test "$only400" = 1
call "$strict_PORT" POST /v1/chat/completions "$valid"
check "the whole body is accepted" test "$STATUS" = 200

# --- queue full: one slot, one waiting place, twelve requests at once ---
pids=()
for i in $(seq 1 12); do
  curl -sS -o "$WORK/busy_$i.json" -D "$WORK/busy_$i.headers" -w '%{http_code}' \
    --data-binary '{"prompt": "Once upon a time", "max_tokens": 1500, "temperature": 1, "seed": '"$i"'}' \
    "http://127.0.0.1:$busy_PORT/v1/completions" > "$WORK/busy_$i.status" &
  pids+=($!)
done
wait "${pids[@]}"
n429=0
n200=0
for i in $(seq 1 12); do
  case $(cat "$WORK/busy_$i.status") in
    429) n429=$((n429 + 1)); last429=$i ;;
    200) n200=$((n200 + 1)) ;;
  esac
done
check "some requests got 429 ($n429) and the rest 200 ($n200)" test "$n429" -ge 1 -a $((n429 + n200)) -eq 12
if [ "$n429" -ge 1 ]; then
  check "429 has Retry-After" grep -qi '^retry-after: [0-9]' "$WORK/busy_$last429.headers"
  check "429 schema" json_is "$WORK/busy_$last429.json" '.error.type == "rate_limit_error" and .error.code == "rate_limit_exceeded"'
fi

# --- concurrent requests give what each gives alone ---
for i in 1 2 3 4 5 6; do
  body="{\"prompt\": \"Tom and Sue\", \"max_tokens\": 40, \"temperature\": 1, \"seed\": $((100 + i))}"
  main POST /v1/completions "$body"
  jq -r '.choices[0].text' "$WORK/body" > "$WORK/alone_$i.txt"
done
pids=()
for i in 1 2 3 4 5 6; do
  body="{\"prompt\": \"Tom and Sue\", \"max_tokens\": 40, \"temperature\": 1, \"seed\": $((100 + i))}"
  curl -sS "${auth[@]}" --data-binary "$body" "http://127.0.0.1:$main_PORT/v1/completions" > "$WORK/together_$i.json" &
  pids+=($!)
done
wait "${pids[@]}"
same=0
for i in 1 2 3 4 5 6; do
  [ "$(jq -r '.choices[0].text' "$WORK/together_$i.json")" = "$(cat "$WORK/alone_$i.txt")" ] && same=$((same + 1))
done
check "concurrent requests match their solo runs ($same of 6)" test "$same" -eq 6

# --- tokenize / detokenize ---
main POST /tokenize '{"content": "Hello world, said the cat."}'
check "tokenize" body_is '(.tokens | length > 0) and all(.tokens[]; type == "number")'
tokens=$(jq -c '.tokens' "$WORK/body")
main POST /detokenize "{\"tokens\": $tokens}"
check "detokenize round trip" body_is '.content == "Hello world, said the cat."'
main POST /tokenize '{"content": "Hi", "with_pieces": true}'
check "tokenize with pieces" body_is 'all(.tokens[]; has("id") and has("piece"))'
main POST /detokenize '{"tokens": [1, -4]}'
check "detokenize bad id: 400" body_is '.error.param == "tokens[1]"'

# --- a client that disconnects mid-stream is cancelled ---
# (stories260K does not emit EOS: 2000 tokens take ~0.2 s, far longer than noticing the hang-up.)
generated() { main GET /metrics; sed -n 's/^rocmforge_generated_tokens_total //p' "$WORK/body"; }
generated_before=$(generated)
curl -sSN "${auth[@]}" --data-binary '{"prompt": "Once upon a time", "max_tokens": 2000, "temperature": 1, "seed": 5, "stream": true}' \
  "http://127.0.0.1:$main_PORT/v1/completions" 2>/dev/null | head -c 300 > /dev/null
disconnected=0
for _ in $(seq 1 50); do
  main GET /metrics
  if grep -q '^rocmforge_client_disconnects_total 1$' "$WORK/body" && grep -q '^rocmforge_requests_running 0$' "$WORK/body"; then
    disconnected=1
    break
  fi
  sleep 0.1
done
check "disconnected stream was cancelled" test "$disconnected" = 1
cut_short=$(( $(generated) - generated_before ))
check "cancelled before its 2000 tokens ($cut_short generated)" test "$cut_short" -lt 2000
main GET /v1/models
check "server serves after the disconnect" test "$STATUS" = 200

# --- a stalled client is dropped after --timeout ---
exec 3<>"/dev/tcp/127.0.0.1/$strict_PORT"
printf 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"pro' >&3
start=$(date +%s)
timeout 10 cat <&3 > /dev/null
elapsed=$(( $(date +%s) - start ))
exec 3<&-
check "stalled client dropped ($elapsed s)" test "$elapsed" -le 5
call "$strict_PORT" GET /health
check "server healthy after the stalled client" test "$STATUS" = 200

# --- metrics ---
main GET /metrics
check "metrics 200" test "$STATUS" = 200
check "metrics content type" grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/headers"
for name in requests_running requests_waiting requests_finished_total prompt_tokens_total generated_tokens_total \
  generated_tokens_per_second kv_blocks_used kv_blocks_free kv_blocks_cached prefix_cache_hits_total \
  prefix_cache_lookups_total prefix_cache_hit_rate prefix_cache_saved_tokens_total engine_cpu_utilization \
  steps_total step_seconds_mean; do
  check "metric $name" grep -q "^rocmforge_$name [0-9]" "$WORK/body"
done
check "generated tokens counted" test "$(sed -n 's/^rocmforge_generated_tokens_total //p' "$WORK/body")" -gt 100
check "prefix cache hits from repeated prompts" test "$(sed -n 's/^rocmforge_prefix_cache_hits_total //p' "$WORK/body")" -ge 1
check "responses by status" grep -q '^rocmforge_http_responses_total{code="400"} [1-9]' "$WORK/body"

# --- SIGTERM stops the server cleanly, even in the middle of a stream ---
small_pid=${SERVERS[1]}
curl -sSN --data-binary '{"prompt": "Once", "max_tokens": 50, "stream": true}' -H "Content-Type: application/json" \
  "http://127.0.0.1:$small_PORT/v1/completions" > /dev/null 2>&1 &
kill -TERM "$small_pid"
wait "$small_pid"
check "SIGTERM exits 0" test $? -eq 0
check "SIGTERM says stopped" grep -q '^stopped$' "$small_LOG"

finish
