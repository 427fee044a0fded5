// ChatTemplate on the model publishers' real template strings (tests/chat/templates), with expected
// prompts written out from each format's definition; llama.cpp's expectations for more templates; the
// templates inside the shared vocabulary GGUFs; stop strings and prompt tokenization.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace rf {
namespace {

const std::string kData = ROCMFORGE_TEST_DATA_DIR;
const std::string kVocab = std::string(ROCMFORGE_SHARED_DIR) + "/models/vocab/";

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChatTemplate load(const std::string& name, const std::string& bos, const std::string& eos) {
  auto t = ChatTemplate::from_string(read(kData + "/templates/" + name), bos, eos);
  EXPECT_TRUE(t.ok()) << name << ": " << (t.ok() ? "" : t.error().message);
  return std::move(t).value();
}

// The conversation llama.cpp's tests use: the second reply has spaces around it, which some formats trim.
const std::vector<ChatMessage> kConversation = {
    {"system", "You are a helpful assistant"}, {"user", "Hello"},
    {"assistant", "Hi there"},                 {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},  {"user", "Another question"},
};
const std::vector<ChatMessage> kNoSystem(kConversation.begin() + 1, kConversation.end());

std::string render_chat(const ChatTemplate& t, std::span<const ChatMessage> messages, bool add_generation_prompt = true) {
  auto out = t.apply(messages, add_generation_prompt);
  return out.ok() ? *out : "ERROR: " + out.error().message;
}

TEST(ChatTemplate, Llama2) {
  const ChatTemplate t = load("llama-2-chat.jinja", "<s>", "</s>");
  // [INST] turns, the system message folded into the first; replies stripped, each closed by EOS.
  EXPECT_EQ(render_chat(t, kConversation),
            "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>"
            "<s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]");
  EXPECT_EQ(render_chat(t, kNoSystem), "<s>[INST] Hello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s>"
                                 "<s>[INST] Another question [/INST]");
  const std::vector<ChatMessage> bad = {{"user", "a"}, {"user", "b"}};
  EXPECT_EQ(render_chat(t, bad).rfind("ERROR: chat template, line 1, column ", 0), 0u);
  EXPECT_NE(render_chat(t, bad).find("Conversation roles must alternate user/assistant/user/assistant/..."), std::string::npos);
  EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"</s>"});
}

TEST(ChatTemplate, Llama3) {
  const ChatTemplate t = load("llama-3-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");
  const std::string turns =
      "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>";
  EXPECT_EQ(render_chat(t, kConversation), "<|begin_of_text|>" + turns + "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render_chat(t, kConversation, false), "<|begin_of_text|>" + turns);
  EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"<|eot_id|>"});
}

TEST(ChatTemplate, Llama31WithItsSystemPreamble) {
  const ChatTemplate t = load("llama-3.1-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");
  const std::string turns =
      "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n";
  const std::string preamble =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
      "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
  EXPECT_EQ(render_chat(t, kConversation), preamble + "You are a helpful assistant<|eot_id|>" + turns);
  EXPECT_EQ(render_chat(t, kNoSystem), preamble + "<|eot_id|>" + turns);
  // date_string is a variable the caller may set.
  auto extra = jinja::value_from_json(nlohmann::json{{"date_string", "1 Jan 2025"}});
  ASSERT_TRUE(extra.ok());
  auto dated = t.apply(kNoSystem, true, *extra);
  ASSERT_TRUE(dated.ok());
  EXPECT_NE(dated->find("Today Date: 1 Jan 2025\n"), std::string::npos);
  EXPECT_EQ(t.stop_strings(), (std::vector<std::string>{"<|eot_id|>", "<|eom_id|>"}));
}

TEST(ChatTemplate, Qwen25ChatMlWithItsDefaultSystemMessage) {
  const ChatTemplate t = load("qwen2.5-instruct.jinja", "", "<|im_end|>");
  const std::string turns =
      "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n"
      "<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n"
      "<|im_start|>user\nAnother question<|im_end|>\n";
  EXPECT_EQ(render_chat(t, kConversation), "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n" + turns + "<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(t, kNoSystem, false),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" + turns);
  EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"<|im_end|>"});
}

TEST(ChatTemplate, Qwen25ListsToolsAsJson) {
  const ChatTemplate t = load("qwen2.5-instruct.jinja", "", "<|im_end|>");
  const nlohmann::ordered_json tools = nlohmann::ordered_json::parse(
      R"([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])");
  auto extra = jinja::value_from_json(nlohmann::ordered_json{{"tools", tools}});
  ASSERT_TRUE(extra.ok());
  auto out = t.apply(std::span(kNoSystem).first(1), true, *extra);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\n"
            "You may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                R"({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}})"
                "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
                "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                "</tool_call><|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
}

// Messages straight from JSON carry fields beyond role and content: an assistant tool call and the
// tool's answer, which Qwen2.5 renders in <tool_call> and <tool_response> tags.
TEST(ChatTemplate, Qwen25ToolCallsFromJsonMessages) {
  const ChatTemplate t = load("qwen2.5-instruct.jinja", "", "<|im_end|>");
  auto messages = jinja::value_from_json(nlohmann::ordered_json::parse(R"([
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "content": "18 C"}])"));
  ASSERT_TRUE(messages.ok());
  auto out = t.apply(*messages, true, jinja::Value(jinja::Dict{}));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n18 C\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
  EXPECT_FALSE(t.apply(jinja::Value("not a list"), true, jinja::Value(jinja::Dict{})).ok());
}

TEST(ChatTemplate, MistralV02) {
  // Current v0.2 template: the system message opens the first [INST]; " [INST] " with spaces.
  const ChatTemplate t = load("mistral-v0.2-instruct.jinja", "<s>", "</s>");
  EXPECT_EQ(render_chat(t, kConversation), "<s> [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]"
                                     "    I am an assistant   </s> [INST] Another question [/INST]");
  // The original v0.2 template has no system role: it refuses one.
  const ChatTemplate original = load("mistral-v0.2-instruct-original.jinja", "<s>", "</s>");
  EXPECT_NE(render_chat(original, kConversation).find("Conversation roles must alternate"), std::string::npos);
  EXPECT_EQ(render_chat(original, kNoSystem),
            "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]");
}

TEST(ChatTemplate, MistralV3PutsSystemAndToolsInTheLastUserTurn) {
  const ChatTemplate t = load("mistral-v3-instruct.jinja", "<s>", "</s>");
  EXPECT_EQ(render_chat(t, kConversation), "<s>[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>"
                                     "[INST] You are a helpful assistant\n\nAnother question[/INST]");
  auto extra = jinja::value_from_json(nlohmann::ordered_json::parse(
      R"({"tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}]})"));
  ASSERT_TRUE(extra.ok());
  auto out = t.apply(kNoSystem, true, *extra);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "<s>[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>"
                  R"([AVAILABLE_TOOLS] [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}][/AVAILABLE_TOOLS])"
                  "[INST] Another question[/INST]");
  const std::vector<ChatMessage> bad = {{"user", "a"}, {"assistant", "b"}, {"assistant", "c"}};
  EXPECT_NE(render_chat(t, bad).find("After the optional system message, conversation roles must alternate"), std::string::npos);
}

TEST(ChatTemplate, MistralNemo) {
  const ChatTemplate t = load("mistral-nemo-instruct-2407.jinja", "<s>", "</s>");
  EXPECT_EQ(render_chat(t, kConversation), "<s>[INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>"
                                     "[INST]You are a helpful assistant\n\nAnother question[/INST]");
}

TEST(ChatTemplate, ZephyrTinyLlama) {
  const ChatTemplate t = load("zephyr-tinyllama-chat.jinja", "<s>", "</s>");
  const std::string turns =
      "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n"
      "<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n";
  EXPECT_EQ(render_chat(t, kConversation), turns + "<|assistant|>\n");
  EXPECT_EQ(render_chat(t, kConversation, false), turns);
  EXPECT_EQ(t.stop_strings(), std::vector<std::string>{"</s>"});
}

TEST(ChatTemplate, Phi35Mini) {
  const ChatTemplate t = load("phi-3.5-mini-instruct.jinja", "<s>", "<|endoftext|>");
  const std::string turns =
      "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n"
      "<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n";
  EXPECT_EQ(render_chat(t, kConversation), turns + "<|assistant|>\n");
  EXPECT_EQ(render_chat(t, kConversation, false), turns + "<|endoftext|>");
  EXPECT_EQ(t.stop_strings(), (std::vector<std::string>{"<|end|>", "<|endoftext|>"}));
}

// llama.cpp's expectations for the same conversation, for many more templates.
TEST(ChatTemplate, LlamaCppExpectations) {
  const auto cases = nlohmann::json::parse(read(kData + "/llama_cpp_cases.json"))["cases"];
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    auto t = ChatTemplate::from_string(c["template"].get<std::string>(), c["bos_token"], c["eos_token"]);
    ASSERT_TRUE(t.ok()) << c["name"] << ": " << t.error().message;
    EXPECT_EQ(render_chat(*t, kConversation), c["expected"].get<std::string>()) << c["name"];
  }
}

// Every vocabulary GGUF in the shared folder: its chat template if it has one, else ChatML.
TEST(ChatTemplate, SharedVocabularies) {
  int with_template = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kVocab)) {
    if (entry.path().extension() != ".gguf") continue;
    auto file = gguf::File::open(entry.path().string());
    ASSERT_TRUE(file.ok()) << entry.path();
    auto tok = Tokenizer::from_gguf(*file);
    if (!tok.ok()) continue;  // vocabularies the tokenizer does not support (tested in tests/tokenizer)
    auto t = ChatTemplate::for_model(*file, *tok);
    ASSERT_TRUE(t.ok()) << entry.path() << ": " << t.error().message;
    auto out = t->apply(kNoSystem, true);
    ASSERT_TRUE(out.ok()) << entry.path() << ": " << out.error().message;
    const bool has = file->get_string("tokenizer.chat_template").has_value();
    EXPECT_EQ(t->is_default(), !has) << entry.path();
    if (!has) {
      EXPECT_EQ(out->rfind("<|im_start|>user\nHello<|im_end|>\n", 0), 0u) << entry.path();
      continue;
    }
    ++with_template;
    if (entry.path().filename() == "ggml-vocab-phi-3.gguf") {
      // Phi-3-mini's first template: BOS, user and assistant turns only (system messages are dropped).
      EXPECT_EQ(t->bos_token(), "<s>");
      EXPECT_EQ(t->eos_token(), "<|endoftext|>");
      EXPECT_EQ(render_chat(*t, kConversation), "<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n"
                                          "<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n");
      EXPECT_EQ(t->stop_strings(), (std::vector<std::string>{"<|end|>", "<|endoftext|>"}));
    }
  }
  EXPECT_GE(with_template, 1);
}

TEST(ChatTemplate, DefaultIsChatMl) {
  auto file = gguf::File::open(kVocab + "ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.ok());
  auto t = ChatTemplate::for_model(*file, *tok);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_default());
  EXPECT_NE(t->note().find("no tokenizer.chat_template"), std::string::npos);
  EXPECT_EQ(render_chat(*t, kConversation).rfind("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello", 0), 0u);
  EXPECT_EQ(t->stop_strings(), (std::vector<std::string>{"<|im_end|>", "</s>"}));
}

// The template's own BOS text becomes the BOS id; the vocabulary's BOS is not added twice.
TEST(ChatTemplate, TokenizeAddsBosOnce) {
  auto file = gguf::File::open(kVocab + "ggml-vocab-phi-3.gguf");
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.ok());
  auto with_bos = ChatTemplate::for_model(*file, *tok);
  ASSERT_TRUE(with_bos.ok());
  auto prompt = with_bos->apply(kNoSystem, true);
  ASSERT_TRUE(prompt.ok());
  const std::vector<int32_t> ids = with_bos->tokenize(*tok, *prompt);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], tok->bos_id());
  EXPECT_NE(ids[1], tok->bos_id());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok->bos_id()), 1);
  // <|user|> and <|end|> are single special tokens.
  EXPECT_EQ(tok->token_text(ids[1]), "<|user|>");

  auto without_bos = ChatTemplate::from_string(ChatTemplate::kChatMl, "<s>", "<|endoftext|>");
  ASSERT_TRUE(without_bos.ok());
  auto chatml = without_bos->apply(kNoSystem, true);
  ASSERT_TRUE(chatml.ok());
  const std::vector<int32_t> ids2 = without_bos->tokenize(*tok, *chatml);
  ASSERT_GE(ids2.size(), 2u);
  EXPECT_EQ(ids2[0], tok->bos_id());
  EXPECT_EQ(std::count(ids2.begin(), ids2.end(), tok->bos_id()), 1);
}

TEST(ChatTemplate, ParseErrorsAreReported) {
  auto t = ChatTemplate::from_string("{% for m in messages %}{{ m.content }}", "", "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message,
            "chat template, line 1, column 4: unexpected end of template: expected 'endfor' to close this 'for'");
}

}  // namespace
}  // namespace rf
