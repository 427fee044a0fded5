// Chat/completion/tokenize request parsing: fields land where they should, and every kind of bad
// value is a 400 that names its field.
#include <gtest/gtest.h>

#include <string>

#include "server/openai_request.h"

namespace rf::server {
namespace {

using nlohmann::json;

constexpr int32_t kVocab = 512;

ApiError chat_error(const std::string& body) {
  auto r = parse_chat_request(json::parse(body));
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? ApiError{} : r.error();
}

ApiError completion_error(const std::string& body) {
  auto r = parse_completion_request(json::parse(body), kVocab);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? ApiError{} : r.error();
}

TEST(ChatRequest, ReadsEveryField) {
  auto r = parse_chat_request(json::parse(R"({
    "model": "anything", "messages": [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]},
                                      {"role": "assistant", "content": null}],
    "max_completion_tokens": 33, "max_tokens": 7, "temperature": 0.3, "top_p": 0.9, "top_k": 12, "min_p": 0.2,
    "seed": 1234, "stop": ["a", "", "bb"], "presence_penalty": 0.5, "frequency_penalty": -0.25,
    "logprobs": true, "top_logprobs": 3, "stream": true, "stream_options": {"include_usage": true}, "n": 1})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->endpoint, Endpoint::kChat);
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[0].role, "system");
  EXPECT_EQ(r->messages[1].content, "Hi\nthere");
  EXPECT_EQ(r->messages[2].content, "");
  EXPECT_EQ(r->max_tokens, 33);  // max_completion_tokens wins
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.3f);
  EXPECT_FLOAT_EQ(r->sampling.top_p, 0.9f);
  EXPECT_EQ(r->sampling.top_k, 12);
  EXPECT_FLOAT_EQ(r->sampling.min_p, 0.2f);
  EXPECT_EQ(r->sampling.seed, 1234u);
  EXPECT_FLOAT_EQ(r->sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r->sampling.frequency_penalty, -0.25f);
  EXPECT_EQ(r->stop, (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(r->top_logprobs, 3);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
}

TEST(ChatRequest, DefaultsFollowLlamaCppAndOpenAI) {
  auto r = parse_chat_request(json::parse(R"({"messages": [{"role": "user", "content": "x"}], "seed": -1})"));
  ASSERT_TRUE(r.ok());
  const SamplingParams defaults;
  EXPECT_EQ(r->max_tokens, 0);  // until the end of generation or the context
  EXPECT_EQ(r->sampling.temperature, defaults.temperature);
  EXPECT_EQ(r->sampling.seed, kRandomSeed);
  EXPECT_EQ(r->top_logprobs, -1);
  EXPECT_FALSE(r->stream);
  auto lp = parse_chat_request(json::parse(R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true})"));
  ASSERT_TRUE(lp.ok());
  EXPECT_EQ(lp->top_logprobs, 0);  // the chosen token's only
}

TEST(ChatRequest, ErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "messages"},
      {R"({"messages": []})", "messages"},
      {R"({"messages": "hi"})", "messages"},
      {R"({"messages": [42]})", "messages[0]"},
      {R"({"messages": [{"content": "x"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "wizard", "content": "x"}]})", "messages[0].role"},
      {R"({"messages": [{"role": 3, "content": "x"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})", "messages[0].content[0].type"},
      {R"({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]})", "messages[0].content[0].text"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": -5})", "max_completion_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": 2.5})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_p": -0.1})", "top_p"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_k": -1})", "top_k"},
      {R"({"messages": [{"role": "user", "content": "x"}], "min_p": 1.5})", "min_p"},
      {R"({"messages": [{"role": "user", "content": "x"}], "presence_penalty": 3})", "presence_penalty"},
      {R"({"messages": [{"role": "user", "content": "x"}], "frequency_penalty": -2.01})", "frequency_penalty"},
      {R"({"messages": [{"role": "user", "content": "x"}], "seed": 1.5})", "seed"},
      {R"({"messages": [{"role": "user", "content": "x"}], "seed": -2})", "seed"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": 5})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", 1]})", "stop[1]"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", "n"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})", "stream"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": true}})", "stream_options"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream": true, "stream_options": {"include_usage": 1}})",
       "stream_options.include_usage"},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": 3})", "logprobs"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})", "top_logprobs"},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21})", "top_logprobs"},
      {R"({"messages": [{"role": "user", "content": "x"}], "model": 7})", "model"},
      {R"({"messages": [{"role": "user", "content": "x"}], "logit_bias": {"1": 5}})", "logit_bias"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})", "tools"},
      {R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})", "response_format"},
  };
  for (const auto& [body, param] : cases) {
    const ApiError e = chat_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.type, "invalid_request_error") << body;
    EXPECT_EQ(e.param, param) << body << " -> " << e.message;
    EXPECT_NE(e.message.find(param), std::string::npos) << e.message;
  }
}

TEST(CompletionRequest, PromptShapes) {
  auto text = parse_completion_request(json::parse(R"({"prompt": "Once"})"), kVocab);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->prompt, "Once");
  EXPECT_FALSE(text->prompt_is_tokens);
  EXPECT_EQ(text->max_tokens, kDefaultCompletionTokens);

  auto ids = parse_completion_request(json::parse(R"({"prompt": [1, 511, 7], "logprobs": 2})"), kVocab);
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->prompt_is_tokens);
  EXPECT_EQ(ids->prompt_tokens, (std::vector<int32_t>{1, 511, 7}));
  EXPECT_EQ(ids->top_logprobs, 2);

  auto one_string = parse_completion_request(json::parse(R"({"prompt": ["Only one"]})"), kVocab);
  ASSERT_TRUE(one_string.ok());
  EXPECT_EQ(one_string->prompt, "Only one");

  auto nested = parse_completion_request(json::parse(R"({"prompt": [[3, 4]]})"), kVocab);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->prompt_tokens, (std::vector<int32_t>{3, 4}));
}

TEST(CompletionRequest, ErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "prompt"},
      {R"({"prompt": 5})", "prompt"},
      {R"({"prompt": []})", "prompt"},
      {R"({"prompt": ["a", "b"]})", "prompt"},
      {R"({"prompt": [1, 512]})", "prompt[1]"},
      {R"({"prompt": [1, -1]})", "prompt[1]"},
      {R"({"prompt": [1, "x"]})", "prompt[1]"},
      {R"({"prompt": [1, 2.5]})", "prompt[1]"},
      {R"({"prompt": [[1, 99999999999]]})", "prompt[0][1]"},
      {R"({"prompt": [{}]})", "prompt[0]"},
      {R"({"prompt": "x", "logprobs": true})", "logprobs"},
      {R"({"prompt": "x", "logprobs": 21})", "logprobs"},
      {R"({"prompt": "x", "echo": true})", "echo"},
      {R"({"prompt": "x", "best_of": 3})", "best_of"},
      {R"({"prompt": "x", "suffix": "end"})", "suffix"},
      {R"({"prompt": "x", "max_tokens": 1e30})", "max_tokens"},
  };
  for (const auto& [body, param] : cases) {
    const ApiError e = completion_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, param) << body << " -> " << e.message;
  }
}

TEST(TokenizeRequest, FieldsAndErrors) {
  auto r = parse_tokenize_request(json::parse(R"({"content": "hi", "add_special": true, "with_pieces": true})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content, "hi");
  EXPECT_TRUE(r->add_special);
  EXPECT_TRUE(r->parse_special);
  EXPECT_TRUE(r->with_pieces);
  EXPECT_EQ(parse_tokenize_request(json::parse(R"({})")).error().param, "content");
  EXPECT_EQ(parse_tokenize_request(json::parse(R"({"content": 3})")).error().param, "content");

  auto ids = parse_detokenize_request(json::parse(R"({"tokens": [0, 5, 511]})"), kVocab);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{0, 5, 511}));
  EXPECT_EQ(parse_detokenize_request(json::parse(R"({"tokens": [0, 512]})"), kVocab).error().param, "tokens[1]");
  EXPECT_EQ(parse_detokenize_request(json::parse(R"({"tokens": "1 2"})"), kVocab).error().param, "tokens");
  EXPECT_EQ(parse_detokenize_request(json::parse(R"({})"), kVocab).error().param, "tokens");
}

}  // namespace
}  // namespace rf::server
