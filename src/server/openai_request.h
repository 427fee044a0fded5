// OpenAI-compatible request bodies (/v1/chat/completions, /v1/completions, /tokenize, /detokenize)
// parsed and validated into plain structs; every error names the offending field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "sampling/sampler.h"
#include "server/api_error.h"

namespace rf::server {

enum class Endpoint { kChat, kCompletion };

inline constexpr int kMaxStopStrings = 4;   // OpenAI's limit
inline constexpr int kMaxTopLogprobs = 20;  // the engine's limit (OpenAI's for chat)
inline constexpr int64_t kDefaultCompletionTokens = 16;  // OpenAI's default for /v1/completions

struct CompletionRequest {
  Endpoint endpoint = Endpoint::kCompletion;
  std::vector<ChatMessage> messages;   // chat: at least one; roles system | developer | user | assistant |
                                       // tool, content parts joined by "\n"
  std::string prompt;                  // completions given text
  std::vector<int32_t> prompt_tokens;  // completions given token ids (then `prompt` is unused)
  bool prompt_is_tokens = false;
  int64_t max_tokens = 0;              // 0: until end of generation or the context is full
  SamplingParams sampling;             // llama.cpp's defaults for fields not given
  std::vector<std::string> stop;       // non-empty strings, at most kMaxStopStrings
  int top_logprobs = -1;               // -1: no logprobs; else the chosen token's + this many alternatives
  bool stream = false;
  bool include_usage = false;          // stream_options.include_usage
};

// body: a parsed JSON object. n_vocab bounds token ids given as a prompt.
ApiResult<CompletionRequest> parse_chat_request(const nlohmann::json& body);
ApiResult<CompletionRequest> parse_completion_request(const nlohmann::json& body, int32_t n_vocab);

// llama-server's POST /tokenize body: {"content": "...", "add_special": false, "parse_special": true,
// "with_pieces": false}.
struct TokenizeRequest {
  std::string content;
  bool add_special = false;
  bool parse_special = true;
  bool with_pieces = false;
};
ApiResult<TokenizeRequest> parse_tokenize_request(const nlohmann::json& body);
// POST /detokenize body: {"tokens": [ids]}; ids must be in [0, n_vocab).
ApiResult<std::vector<int32_t>> parse_detokenize_request(const nlohmann::json& body, int32_t n_vocab);

}  // namespace rf::server
