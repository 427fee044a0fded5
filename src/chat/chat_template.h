// ChatTemplate: a model's chat format (its GGUF tokenizer.chat_template, run by our Jinja subset) turning
// a conversation into prompt text; also the strings that end an assistant turn. Parsed once; apply() is
// const and thread-safe, for the CLI chat and the server alike.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "chat/jinja.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace rf {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" (templates decide what else they accept)
  std::string content;
};

class ChatTemplate {
 public:
  // The ChatML format (<|im_start|>role\n...<|im_end|>\n): the default when a model names none.
  static constexpr std::string_view kChatMl =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
      "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  // Errors: the template does not parse (line, column and what was expected).
  static Result<ChatTemplate> from_string(std::string_view source, std::string bos_token, std::string eos_token,
                                          const jinja::Limits& limits = {});

  // The file's tokenizer.chat_template with the vocabulary's BOS/EOS texts; ChatML when the file has
  // none (then is_default() and note() says so). Errors: a template that does not parse.
  static Result<ChatTemplate> for_model(const gguf::File& file, const Tokenizer& tokenizer);

  // The prompt text for `messages`; add_generation_prompt opens the assistant's turn. Errors: the
  // template's own (raise_exception, e.g. "Conversation roles must alternate user/assistant/..."),
  // type errors and limits, each with its line and column in the template.
  Result<std::string> apply(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  // The same with more variables for the template (tools, date_string, ...): `extra` is a dict whose
  // entries are set after (and so override) messages, add_generation_prompt, bos_token and eos_token.
  Result<std::string> apply(std::span<const ChatMessage> messages, bool add_generation_prompt,
                            const jinja::Value& extra) const;
  // Messages as template values (a list of dicts, e.g. from an OpenAI request via value_from_json), for
  // fields beyond role and content: tool_calls, tool_call_id, name, content parts.
  Result<std::string> apply(const jinja::Value& messages, bool add_generation_prompt, const jinja::Value& extra) const;

  // Token ids of a prompt from apply(): special-token texts become their ids, and BOS is added when the
  // vocabulary wants one and the template did not already write it.
  std::vector<int32_t> tokenize(const Tokenizer& tokenizer, std::string_view prompt) const;

  // Texts that end an assistant turn, for stopping generation on text: the template's end-of-turn
  // markers (<|im_end|>, <|eot_id|>, <|end|>, ...) that it writes, and the EOS text.
  const std::vector<std::string>& stop_strings() const { return stop_strings_; }

  bool is_default() const { return !note_.empty(); }
  const std::string& note() const { return note_; }  // why the default is in use; empty otherwise
  const std::string& source() const { return template_.source(); }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }

 private:
  ChatTemplate(jinja::Template t, std::string bos, std::string eos);

  jinja::Template template_;
  std::string bos_token_;
  std::string eos_token_;
  std::vector<std::string> stop_strings_;
  std::string note_;
};

}  // namespace rf
