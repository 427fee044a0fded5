// OpenAI-compatible response bodies and server-sent-event chunks for chat and text completions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/engine.h"
#include "server/generation_stream.h"
#include "server/openai_request.h"

namespace rf::server {

struct ResponseMeta {
  Endpoint endpoint = Endpoint::kCompletion;
  std::string id;       // "chatcmpl-<hex>" or "cmpl-<hex>"
  int64_t created = 0;  // Unix seconds
  std::string model;    // the served model's name
};

// A fresh random id with the endpoint's prefix.
std::string new_response_id(Endpoint endpoint);

// "stop" (end of generation, a stop string) or "length" (max_tokens, the context).
const char* openai_finish_reason(FinishReason reason);

// {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details": {"cached_tokens"}}.
nlohmann::json usage_json(const GenerationResult& result);

// Log-probabilities in the endpoint's shape: chat {"content": [{token, logprob, bytes, top_logprobs}]},
// completions {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}. text_offset
// counts bytes of the completion from `offset`, which is advanced past these tokens.
nlohmann::json logprobs_json(Endpoint endpoint, const std::vector<TokenLogprobs>& tokens, size_t& offset);

// The non-streaming response. logprobs: null when not requested.
nlohmann::json completion_response(const ResponseMeta& meta, const std::string& text, const GenerationResult& result,
                                   nlohmann::json logprobs);

// One streamed chunk. Chat: delta.content = text (no content when text is empty), or
// delta.role = "assistant" for the first chunk (role_chunk). finish_reason: nullptr until the last
// chunk. include_usage adds "usage": null, as OpenAI does when the last chunk will carry it.
nlohmann::json stream_chunk(const ResponseMeta& meta, const std::string& text, const char* finish_reason,
                            nlohmann::json logprobs, bool include_usage);
nlohmann::json chat_role_chunk(const ResponseMeta& meta, bool include_usage);
// The extra last chunk of stream_options.include_usage: no choices, the usage.
nlohmann::json usage_chunk(const ResponseMeta& meta, const GenerationResult& result);

// "data: <json>\n\n". Invalid UTF-8 in strings (token bytes) becomes U+FFFD, so this never throws.
std::string sse_event(const nlohmann::json& body);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// Compact JSON with invalid UTF-8 replaced by U+FFFD (never throws).
std::string dump_json(const nlohmann::json& body);

}  // namespace rf::server
