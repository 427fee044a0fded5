// Parsing and validating OpenAI-compatible request bodies.
#include "server/openai_request.h"

#include <limits>
#include <optional>

#include "server/request_json.h"

namespace rf::server {
namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Token ids at `path` (an array of integers) into `out`; false after recording an error.
bool read_token_ids(const json& array, const std::string& path, int32_t n_vocab, std::vector<int32_t>& out,
                    FieldReader& f) {
  for (size_t i = 0; i < array.size(); ++i) {
    const json& v = array[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!v.is_number_integer()) {
      f.fail(at, "expected a token id (an integer), found " + json_kind(v));
      return false;
    }
    const int64_t id = v.get<int64_t>();
    if (v.is_number_unsigned() ? v.get<uint64_t>() >= static_cast<uint64_t>(n_vocab) : id < 0 || id >= n_vocab) {
      f.fail(at, "token id " + v.dump() + " is not in the vocabulary [0, " + std::to_string(n_vocab) + ")");
      return false;
    }
    out.push_back(static_cast<int32_t>(id));
  }
  return true;
}

// Fields with no equivalent here: refused rather than silently ignored, since they change results.
void refuse_unsupported(FieldReader& f) {
  if (const json* v = f.raw("logit_bias"); v != nullptr && !(v->is_object() && v->empty())) {
    f.fail("logit_bias", "logit_bias is not supported");
  }
  if (const json* v = f.raw("tools"); v != nullptr && !(v->is_array() && v->empty())) {
    f.fail("tools", "tools (function calling) are not supported");
  }
  if (const json* v = f.raw("response_format"); v != nullptr) {
    if (!v->is_object() || v->value("type", json()) != "text") {
      f.fail("response_format", "only {\"type\": \"text\"} is supported");
    }
  }
  if (f.boolean("echo").value_or(false)) f.fail("echo", "echo is not supported");
  if (const json* v = f.raw("best_of"); v != nullptr && *v != 1) {
    f.fail("best_of", "only best_of = 1 is supported, found " + v->dump());
  }
  if (const json* v = f.raw("suffix"); v != nullptr && !(v->is_string() && v->get<std::string>().empty())) {
    f.fail("suffix", "suffix (insertion) is not supported");
  }
}

// The fields both endpoints share: sampling, stop, stream, n, model.
void read_common(FieldReader& f, CompletionRequest& r) {
  f.string("model");  // any name is accepted: one model is served
  if (const auto n = f.raw("n"); n != nullptr && (!n->is_number_integer() || n->get<int64_t>() != 1)) {
    f.fail("n", "only n = 1 is supported (one choice per request), found " + n->dump());
  }
  const auto max_completion = f.integer("max_completion_tokens", 1, kInt64Max);
  const auto max_tokens = f.integer("max_tokens", 1, kInt64Max);
  if (max_completion) {
    r.max_tokens = *max_completion;
  } else if (max_tokens) {
    r.max_tokens = *max_tokens;
  }
  SamplingParams& s = r.sampling;
  s.temperature = static_cast<float>(f.number("temperature", 0.0, 2.0).value_or(s.temperature));
  s.top_p = static_cast<float>(f.number("top_p", 0.0, 1.0).value_or(s.top_p));
  s.min_p = static_cast<float>(f.number("min_p", 0.0, 1.0).value_or(s.min_p));
  s.top_k = static_cast<int>(f.integer("top_k", 0, std::numeric_limits<int32_t>::max()).value_or(s.top_k));
  s.presence_penalty = static_cast<float>(f.number("presence_penalty", -2.0, 2.0).value_or(s.presence_penalty));
  s.frequency_penalty = static_cast<float>(f.number("frequency_penalty", -2.0, 2.0).value_or(s.frequency_penalty));
  // -1 asks for a random seed, as in llama.cpp.
  if (const auto seed = f.integer("seed", -1, kInt64Max); seed && *seed >= 0) s.seed = static_cast<uint64_t>(*seed);

  if (const json* stop = f.raw("stop"); stop != nullptr) {
    if (stop->is_string()) {
      r.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > static_cast<size_t>(kMaxStopStrings)) {
        f.fail("stop", "at most " + std::to_string(kMaxStopStrings) + " stop strings are allowed, found " +
                           std::to_string(stop->size()));
      }
      for (size_t i = 0; i < stop->size(); ++i) {
        if (!(*stop)[i].is_string()) {
          f.fail("stop[" + std::to_string(i) + "]", "expected a string, found " + json_kind((*stop)[i]));
          break;
        }
        r.stop.push_back((*stop)[i].get<std::string>());
      }
    } else {
      f.fail("stop", "expected a string or an array of strings, found " + json_kind(*stop));
    }
    std::erase_if(r.stop, [](const std::string& stop_string) { return stop_string.empty(); });
  }

  r.stream = f.boolean("stream").value_or(false);
  if (const json* options = f.raw("stream_options"); options != nullptr) {
    if (!options->is_object()) {
      f.fail("stream_options", "expected an object, found " + json_kind(*options));
    } else if (!r.stream) {
      f.fail("stream_options", "stream_options is only allowed when stream is true");
    } else {
      FieldReader o(*options, "stream_options.");
      r.include_usage = o.boolean("include_usage").value_or(false);
      f.merge(o);
    }
  }
  refuse_unsupported(f);
}

// message.content: a string, an array of {"type": "text", "text": ...} parts, or null.
void read_content(const json& content, const std::string& path, FieldReader& f, std::string& out) {
  if (content.is_null()) return;
  if (content.is_string()) {
    out = content.get<std::string>();
    return;
  }
  if (!content.is_array()) {
    f.fail(path, "expected a string or an array of content parts, found " + json_kind(content));
    return;
  }
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!content[i].is_object()) {
      f.fail(at, "expected a content part object, found " + json_kind(content[i]));
      return;
    }
    FieldReader part(content[i], at + ".");
    const auto type = part.string("type");
    const auto text = part.string("text");
    if (part.error()) {
      f.merge(part);
      return;
    }
    if (type != "text") {
      f.fail(at + ".type", "only \"text\" content parts are supported, found " + json(type.value_or("null")).dump());
      return;
    }
    if (!out.empty()) out += "\n";
    out += text.value_or("");
  }
}

}  // namespace

ApiResult<CompletionRequest> parse_chat_request(const json& body) {
  CompletionRequest r;
  r.endpoint = Endpoint::kChat;
  FieldReader f(body);
  const json* messages = f.raw("messages");
  if (messages == nullptr) {
    f.fail("messages", "required: an array of {\"role\", \"content\"} messages");
  } else if (!messages->is_array() || messages->empty()) {
    f.fail("messages", "expected a non-empty array of messages, found " +
                           (messages->is_array() ? std::string("an empty array") : json_kind(*messages)));
  } else {
    for (size_t i = 0; i < messages->size() && !f.error(); ++i) {
      const std::string at = "messages[" + std::to_string(i) + "]";
      const json& m = (*messages)[i];
      if (!m.is_object()) {
        f.fail(at, "expected a message object, found " + json_kind(m));
        break;
      }
      FieldReader mf(m, at + ".");
      ChatMessage msg;
      msg.role = mf.string("role").value_or("");
      if (mf.error()) {
        f.merge(mf);
        break;
      }
      if (msg.role != "system" && msg.role != "developer" && msg.role != "user" && msg.role != "assistant" &&
          msg.role != "tool") {
        f.fail(at + ".role", "expected one of system, developer, user, assistant, tool; found " +
                                 (m.contains("role") ? m["role"].dump() : std::string("nothing")));
        break;
      }
      if (const auto it = m.find("content"); it != m.end()) read_content(*it, at + ".content", f, msg.content);
      r.messages.push_back(std::move(msg));
    }
  }
  read_common(f, r);
  const auto logprobs = f.boolean("logprobs");
  const auto top = f.integer("top_logprobs", 0, kMaxTopLogprobs);
  if (top && !logprobs.value_or(false)) f.fail("top_logprobs", "top_logprobs requires logprobs to be true");
  if (logprobs.value_or(false)) r.top_logprobs = static_cast<int>(top.value_or(0));
  if (f.error()) return *f.error();
  return r;
}

ApiResult<CompletionRequest> parse_completion_request(const json& body, int32_t n_vocab) {
  CompletionRequest r;
  r.endpoint = Endpoint::kCompletion;
  r.max_tokens = kDefaultCompletionTokens;
  FieldReader f(body);
  const json* prompt = f.raw("prompt");
  if (prompt == nullptr) {
    f.fail("prompt", "required: a string or an array of token ids");
  } else if (prompt->is_string()) {
    r.prompt = prompt->get<std::string>();
  } else if (prompt->is_array()) {
    // [ids], ["text"], [[ids]]: one prompt; several prompts (a batch) are refused.
    if (prompt->empty()) {
      f.fail("prompt", "expected a string or an array of token ids, found an empty array");
    } else if ((*prompt)[0].is_number()) {
      r.prompt_is_tokens = read_token_ids(*prompt, "prompt", n_vocab, r.prompt_tokens, f);
    } else if (prompt->size() > 1) {
      f.fail("prompt", "one prompt per request is supported, found an array of " + std::to_string(prompt->size()) +
                           " prompts (send one request each)");
    } else if ((*prompt)[0].is_string()) {
      r.prompt = (*prompt)[0].get<std::string>();
    } else if ((*prompt)[0].is_array() && !(*prompt)[0].empty()) {
      r.prompt_is_tokens = read_token_ids((*prompt)[0], "prompt[0]", n_vocab, r.prompt_tokens, f);
    } else {
      f.fail("prompt[0]", "expected a string or an array of token ids, found " + json_kind((*prompt)[0]));
    }
  } else {
    f.fail("prompt", "expected a string or an array of token ids, found " + json_kind(*prompt));
  }
  read_common(f, r);
  if (const auto logprobs = f.integer("logprobs", 0, kMaxTopLogprobs)) r.top_logprobs = static_cast<int>(*logprobs);
  if (f.error()) return *f.error();
  return r;
}

ApiResult<TokenizeRequest> parse_tokenize_request(const json& body) {
  TokenizeRequest r;
  FieldReader f(body);
  const auto content = f.string("content");
  if (!content && !f.error()) f.fail("content", "required: the text to tokenize");
  r.content = content.value_or("");
  r.add_special = f.boolean("add_special").value_or(r.add_special);
  r.parse_special = f.boolean("parse_special").value_or(r.parse_special);
  r.with_pieces = f.boolean("with_pieces").value_or(r.with_pieces);
  if (f.error()) return *f.error();
  return r;
}

ApiResult<std::vector<int32_t>> parse_detokenize_request(const json& body, int32_t n_vocab) {
  std::vector<int32_t> ids;
  FieldReader f(body);
  const json* tokens = f.raw("tokens");
  if (tokens == nullptr) {
    f.fail("tokens", "required: an array of token ids");
  } else if (!tokens->is_array()) {
    f.fail("tokens", "expected an array of token ids, found " + json_kind(*tokens));
  } else {
    read_token_ids(*tokens, "tokens", n_vocab, ids, f);
  }
  if (f.error()) return *f.error();
  return ids;
}

}  // namespace rf::server
