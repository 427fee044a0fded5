// Building OpenAI-compatible responses and stream chunks.
#include "server/openai_response.h"

#include <cstdio>
#include <random>

namespace rf::server {
namespace {

using nlohmann::json;

json bytes_of(const std::string& s) {
  json out = json::array();
  for (const char c : s) out.push_back(static_cast<unsigned char>(c));
  return out;
}

json chat_logprob_item(const LogprobItem& item) {
  return {{"token", item.token}, {"logprob", item.logprob}, {"bytes", bytes_of(item.token)}};
}

json envelope(const ResponseMeta& meta, const char* object) {
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model},
          {"system_fingerprint", nullptr}};
}

}  // namespace

std::string new_response_id(Endpoint endpoint) {
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-") + hex;
}

const char* openai_finish_reason(FinishReason reason) { return reason == FinishReason::kLength ? "length" : "stop"; }

json usage_json(const GenerationResult& result) {
  return {{"prompt_tokens", result.prompt_tokens},
          {"completion_tokens", result.completion_tokens},
          {"total_tokens", result.prompt_tokens + result.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", result.cached_prompt_tokens}}}};
}

json logprobs_json(Endpoint endpoint, const std::vector<TokenLogprobs>& tokens, size_t& offset) {
  if (endpoint == Endpoint::kChat) {
    json content = json::array();
    for (const TokenLogprobs& t : tokens) {
      json item = chat_logprob_item(t.chosen);
      item["top_logprobs"] = json::array();
      for (const LogprobItem& alt : t.top) item["top_logprobs"].push_back(chat_logprob_item(alt));
      content.push_back(std::move(item));
    }
    return {{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json out = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const TokenLogprobs& t : tokens) {
    out["tokens"].push_back(t.chosen.token);
    out["token_logprobs"].push_back(t.chosen.logprob);
    json top = json::object();
    for (const LogprobItem& alt : t.top) top[alt.token] = alt.logprob;
    out["top_logprobs"].push_back(std::move(top));
    out["text_offset"].push_back(offset);
    offset += t.chosen.token.size();
  }
  return out;
}

json completion_response(const ResponseMeta& meta, const std::string& text, const GenerationResult& result,
                         json logprobs) {
  const bool chat = meta.endpoint == Endpoint::kChat;
  json choice = {{"index", 0}, {"logprobs", std::move(logprobs)}, {"finish_reason", openai_finish_reason(result.reason)}};
  if (chat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
  } else {
    choice["text"] = text;
  }
  json body = envelope(meta, chat ? "chat.completion" : "text_completion");
  body["choices"] = json::array({std::move(choice)});
  body["usage"] = usage_json(result);
  return body;
}

json stream_chunk(const ResponseMeta& meta, const std::string& text, const char* finish_reason, json logprobs,
                  bool include_usage) {
  const bool chat = meta.endpoint == Endpoint::kChat;
  json choice = {{"index", 0}, {"logprobs", std::move(logprobs)}, {"finish_reason", nullptr}};
  if (finish_reason != nullptr) choice["finish_reason"] = finish_reason;
  if (chat) {
    choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
  } else {
    choice["text"] = text;
  }
  json body = envelope(meta, chat ? "chat.completion.chunk" : "text_completion");
  body["choices"] = json::array({std::move(choice)});
  if (include_usage) body["usage"] = nullptr;
  return body;
}

json chat_role_chunk(const ResponseMeta& meta, bool include_usage) {
  json body = stream_chunk(meta, "", nullptr, nullptr, include_usage);
  body["choices"][0]["delta"] = {{"role", "assistant"}, {"content", ""}};
  return body;
}

json usage_chunk(const ResponseMeta& meta, const GenerationResult& result) {
  json body = envelope(meta, meta.endpoint == Endpoint::kChat ? "chat.completion.chunk" : "text_completion");
  body["choices"] = json::array();
  body["usage"] = usage_json(result);
  return body;
}

std::string dump_json(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& body) { return "data: " + dump_json(body) + "\n\n"; }

}  // namespace rf::server
