// Response bodies and SSE chunks: OpenAI's shapes, usage arithmetic, log-probability layouts, and
// token bytes that are not valid UTF-8 on their own.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/openai_response.h"
#include "support/utf8_reference.h"

namespace rf::server {
namespace {

using nlohmann::json;

GenerationResult result(FinishReason reason, int64_t prompt, int64_t cached, int64_t completion) {
  GenerationResult r;
  r.reason = reason;
  r.prompt_tokens = prompt;
  r.cached_prompt_tokens = cached;
  r.completion_tokens = completion;
  return r;
}

// Parses one "data: {...}\n\n" event.
json parse_event(const std::string& event) {
  EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
  EXPECT_GE(event.size(), 8u);
  EXPECT_EQ(event.substr(event.size() - 2), "\n\n");
  EXPECT_EQ(event.find('\n'), event.size() - 2) << "an event is one line";
  return json::parse(event.substr(6, event.size() - 8));
}

TEST(OpenAIResponse, IdsArePrefixedAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    const std::string chat = new_response_id(Endpoint::kChat);
    const std::string cmpl = new_response_id(Endpoint::kCompletion);
    EXPECT_EQ(chat.rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(cmpl.rfind("cmpl-", 0), 0u);
    EXPECT_EQ(chat.size(), 9u + 32u);
    ids.insert(chat);
    ids.insert(cmpl);
  }
  EXPECT_EQ(ids.size(), 400u);
}

TEST(OpenAIResponse, ChatCompletionShape) {
  const ResponseMeta meta{Endpoint::kChat, "chatcmpl-1", 1700000123, "m.gguf"};
  const json body = completion_response(meta, "Hello", result(FinishReason::kStop, 11, 4, 6), nullptr);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["id"], "chatcmpl-1");
  EXPECT_EQ(body["created"], 1700000123);
  EXPECT_EQ(body["model"], "m.gguf");
  ASSERT_EQ(body["choices"].size(), 1u);
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(body["usage"]["prompt_tokens"], 11);
  EXPECT_EQ(body["usage"]["completion_tokens"], 6);
  EXPECT_EQ(body["usage"]["total_tokens"], 11 + 6);
  EXPECT_EQ(body["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
}

TEST(OpenAIResponse, TextCompletionShape) {
  const ResponseMeta meta{Endpoint::kCompletion, "cmpl-2", 5, "m"};
  const json body = completion_response(meta, " upon", result(FinishReason::kLength, 3, 0, 16), nullptr);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["text"], " upon");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(body["choices"][0].contains("message"));
}

TEST(OpenAIResponse, ChatStreamChunks) {
  const ResponseMeta meta{Endpoint::kChat, "chatcmpl-3", 9, "m"};
  const json role = parse_event(sse_event(chat_role_chunk(meta, true)));
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(role.contains("usage") && role["usage"].is_null());

  const json piece = parse_event(sse_event(stream_chunk(meta, "Hi", nullptr, nullptr, false)));
  EXPECT_EQ(piece["choices"][0]["delta"], (json{{"content", "Hi"}}));
  EXPECT_FALSE(piece.contains("usage"));

  const json last = parse_event(sse_event(stream_chunk(meta, "", "length", nullptr, true)));
  EXPECT_TRUE(last["choices"][0]["delta"].empty());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");

  const json usage = parse_event(sse_event(usage_chunk(meta, result(FinishReason::kLength, 7, 2, 5))));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 12);
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
}

TEST(OpenAIResponse, CompletionStreamChunk) {
  const ResponseMeta meta{Endpoint::kCompletion, "cmpl-4", 9, "m"};
  const json chunk = parse_event(sse_event(stream_chunk(meta, "line one\nline two", nullptr, nullptr, false)));
  EXPECT_EQ(chunk["object"], "text_completion");
  EXPECT_EQ(chunk["choices"][0]["text"], "line one\nline two");  // the newline is escaped in the event
}

TEST(OpenAIResponse, InvalidUtf8BecomesReplacementCharacters) {
  const ResponseMeta meta{Endpoint::kCompletion, "cmpl-5", 9, "m"};
  const std::string event = sse_event(stream_chunk(meta, "a\xE2\x82", nullptr, nullptr, false));
  EXPECT_EQ(test::well_formed_reference(event), event);
  EXPECT_EQ(parse_event(event)["choices"][0]["text"], "a\xEF\xBF\xBD");
}

TEST(OpenAIResponse, LogprobLayouts) {
  // A token that is half of a 2-byte character, with alternatives.
  std::vector<TokenLogprobs> tokens(2);
  tokens[0].chosen = {"He", -0.5f};
  tokens[0].top = {tokens[0].chosen, {"Sh", -1.25f}};
  tokens[1].chosen = {"\xC3", -2.0f};
  tokens[1].top = {tokens[1].chosen};
  size_t offset = 10;
  const json chat = logprobs_json(Endpoint::kChat, tokens, offset);
  ASSERT_EQ(chat["content"].size(), 2u);
  EXPECT_EQ(chat["content"][0]["token"], "He");
  EXPECT_FLOAT_EQ(chat["content"][0]["logprob"].get<float>(), -0.5f);
  EXPECT_EQ(chat["content"][0]["bytes"], (json{72, 101}));
  EXPECT_EQ(chat["content"][0]["top_logprobs"][1]["token"], "Sh");
  EXPECT_EQ(chat["content"][1]["bytes"], (json{0xC3}));
  EXPECT_EQ(offset, 10u);  // chat has no offsets

  const json text = logprobs_json(Endpoint::kCompletion, tokens, offset);
  EXPECT_EQ(text["tokens"][0], "He");
  EXPECT_FLOAT_EQ(text["token_logprobs"][1].get<float>(), -2.0f);
  EXPECT_FLOAT_EQ(text["top_logprobs"][0]["Sh"].get<float>(), -1.25f);
  EXPECT_EQ(text["text_offset"], (json{10, 12}));
  EXPECT_EQ(offset, 13u);
  const std::string dumped = dump_json(text);
  EXPECT_EQ(test::well_formed_reference(dumped), dumped);
}

}  // namespace
}  // namespace rf::server
