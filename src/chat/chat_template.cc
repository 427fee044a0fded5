// ChatTemplate: the GGUF's chat template (or ChatML), applied to a conversation with the variables
// Hugging Face's apply_chat_template passes.
#include "chat/chat_template.h"

#include <algorithm>

namespace rf {
namespace {

// End-of-turn markers of the common families; those the template writes become stop strings.
constexpr std::string_view kTurnEnds[] = {
    "<|im_end|>",  "<|eot_id|>",   "<|eom_id|>",           "<|end|>",           "<|endoftext|>",
    "<end_of_turn>", "<|end_of_text|>", "<|END_OF_TURN_TOKEN|>", "<｜end▁of▁sentence｜>",
};

}  // namespace

ChatTemplate::ChatTemplate(jinja::Template t, std::string bos, std::string eos)
    : template_(std::move(t)), bos_token_(std::move(bos)), eos_token_(std::move(eos)) {
  for (std::string_view marker : kTurnEnds) {
    if (template_.source().find(marker) != std::string::npos) stop_strings_.emplace_back(marker);
  }
  if (!eos_token_.empty() && std::find(stop_strings_.begin(), stop_strings_.end(), eos_token_) == stop_strings_.end()) {
    stop_strings_.push_back(eos_token_);
  }
}

Result<ChatTemplate> ChatTemplate::from_string(std::string_view source, std::string bos_token, std::string eos_token,
                                               const jinja::Limits& limits) {
  auto t = jinja::Template::parse(source, limits);
  if (!t.ok()) return make_error("chat template, %s", t.error().message.c_str());
  return ChatTemplate(std::move(t).value(), std::move(bos_token), std::move(eos_token));
}

Result<ChatTemplate> ChatTemplate::for_model(const gguf::File& file, const Tokenizer& tokenizer) {
  std::string bos = tokenizer.bos_id() != kNoToken ? tokenizer.token_text(tokenizer.bos_id()) : "";
  std::string eos = tokenizer.eos_id() != kNoToken ? tokenizer.token_text(tokenizer.eos_id()) : "";
  const std::optional<std::string_view> source = file.get_string("tokenizer.chat_template");
  if (source.has_value()) {
    auto t = from_string(*source, std::move(bos), std::move(eos));
    if (!t.ok()) return make_error("tokenizer.chat_template: %s", t.error().message.c_str());
    return t;
  }
  auto t = from_string(kChatMl, std::move(bos), std::move(eos));
  RF_CHECK(t.ok());
  t->note_ = "the model has no tokenizer.chat_template; using ChatML";
  return t;
}

Result<std::string> ChatTemplate::apply(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  return apply(messages, add_generation_prompt, jinja::Value(jinja::Dict{}));
}

Result<std::string> ChatTemplate::apply(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                        const jinja::Value& extra) const {
  jinja::List list;
  list.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    jinja::Dict d;
    d.items.reserve(2);
    d.items.emplace_back("role", jinja::Value(m.role));
    d.items.emplace_back("content", jinja::Value(m.content));
    list.emplace_back(std::move(d));
  }
  return apply(jinja::Value(std::move(list)), add_generation_prompt, extra);
}

Result<std::string> ChatTemplate::apply(const jinja::Value& messages, bool add_generation_prompt,
                                        const jinja::Value& extra) const {
  if (!messages.is_list()) return make_error("chat messages must be a list");
  jinja::Dict globals;
  globals.items.emplace_back("messages", messages);
  globals.items.emplace_back("add_generation_prompt", jinja::Value(add_generation_prompt));
  globals.items.emplace_back("bos_token", jinja::Value(bos_token_));
  globals.items.emplace_back("eos_token", jinja::Value(eos_token_));
  if (extra.is_dict()) {
    for (const auto& [k, v] : extra.as_dict().items) globals.set(k, v);
  } else if (!extra.is_undefined()) {
    return make_error("extra chat template variables must be a dict");
  }
  auto out = template_.render(jinja::Value(std::move(globals)));
  if (!out.ok()) return make_error("chat template, %s", out.error().message.c_str());
  return out;
}

std::vector<int32_t> ChatTemplate::tokenize(const Tokenizer& tokenizer, std::string_view prompt) const {
  // encode(add_bos=false): its add_bos would also append EOS for vocabularies that add one.
  std::vector<int32_t> ids = tokenizer.encode(prompt, false, true);
  const int32_t bos = tokenizer.bos_id();
  if (tokenizer.vocab().add_bos && bos != kNoToken && (ids.empty() || ids.front() != bos)) ids.insert(ids.begin(), bos);
  return ids;
}

}  // namespace rf
