// libFuzzer entry for chat templates: any bytes as a Jinja template, applied to a fixed conversation.
//
// The first byte picks the options (bit 0 add_generation_prompt, bit 1 tools given, bit 2 a system
// message); the rest is the template (seeds that are bare templates lose their first byte to this).
// Checks what must hold for every input: parsing and rendering either succeed or fail with a message
// that names a line, within the (small) limits — nothing crashes, hangs, overflows the stack or
// leaks — and a template renders the same way twice.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace {

rf::jinja::Limits limits() {
  rf::jinja::Limits l;
  l.max_loop_iterations = 20000;
  l.max_steps = 2'000'000;
  l.max_value_bytes = size_t{1} << 20;
  return l;
}

const rf::jinja::Value& tools() {
  static const rf::jinja::Value v = *rf::jinja::value_from_json(nlohmann::ordered_json::parse(
      R"({"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]})"));
  return v;
}

bool names_a_line(const std::string& message) { return message.find("line ") != std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool generation_prompt = data[0] & 1;
  const bool with_tools = (data[0] >> 1) & 1;
  const bool with_system = (data[0] >> 2) & 1;
  const std::string source(reinterpret_cast<const char*>(data + 1), size - 1);

  auto t = rf::ChatTemplate::from_string(source, "<s>", "</s>", limits());
  if (!t.ok()) {
    if (!names_a_line(t.error().message)) std::abort();
    return 0;
  }
  std::vector<rf::ChatMessage> messages = {{"user", "Hello"}, {"assistant", " Hi there "}, {"user", "Who\nare you?"}};
  if (with_system) messages.insert(messages.begin(), {"system", "Be brief."});
  const rf::jinja::Value extra = with_tools ? tools() : rf::jinja::Value(rf::jinja::Dict{});
  auto first = t->apply(messages, generation_prompt, extra);
  auto second = t->apply(messages, generation_prompt, extra);
  if (first.ok() != second.ok()) std::abort();
  if (!first.ok()) {
    if (!names_a_line(first.error().message) || first.error().message != second.error().message) std::abort();
    return 0;
  }
  // strftime_now may tick between the two renders; everything else is deterministic.
  if (*first != *second && source.find("strftime_now") == std::string::npos) std::abort();
  if (first->size() > limits().max_value_bytes) std::abort();
  return 0;
}
