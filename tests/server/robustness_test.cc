// Mutated request bodies (bytes flipped, inserted, cut) through the whole parsing path: nothing
// throws or crashes, every refusal is a 400 with a message in valid UTF-8, and an accepted request
// stays within the documented limits.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "server/openai_request.h"
#include "server/request_json.h"
#include "support/utf8_reference.h"

namespace rf::server {
namespace {

const std::string kBodies[] = {
    R"({"model": "m", "messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": [{"type": "text", "text": "Hi \u00e9"}]}],
        "max_tokens": 12, "temperature": 0.5, "top_p": 0.9, "stop": ["\n\n", "END"], "seed": 4, "logprobs": true, "top_logprobs": 2,
        "stream": true, "stream_options": {"include_usage": true}})",
    R"({"prompt": [1, 2, 3, 400], "max_tokens": 7, "logprobs": 3, "n": 1, "presence_penalty": 0.5, "stop": "x"})",
    R"({"prompt": ["Once upon a time"], "max_completion_tokens": 9, "min_p": 0.1, "top_k": 5, "frequency_penalty": -1})",
};

void check_request(const ApiResult<CompletionRequest>& r) {
  if (!r.ok()) {
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(test::well_formed_reference(r.error().message), r.error().message);
    return;
  }
  EXPECT_GE(r->max_tokens, 0);
  EXPECT_LE(r->stop.size(), static_cast<size_t>(kMaxStopStrings));
  EXPECT_LE(r->top_logprobs, kMaxTopLogprobs);
  for (const int32_t id : r->prompt_tokens) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 512);
  }
  EXPECT_TRUE(validate_sampling_params(r->sampling).ok());
}

TEST(RequestRobustness, MutatedBodiesNeverEscapeAs400s) {
  std::mt19937 rng(1234);
  int accepted = 0;
  int refused = 0;
  for (int trial = 0; trial < 6000; ++trial) {
    std::string body = kBodies[static_cast<size_t>(trial) % std::size(kBodies)];
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !body.empty(); --edits) {
      const size_t at = rng() % body.size();
      switch (rng() % 4) {
        case 0: body[at] = static_cast<char>(rng() % 256); break;           // any byte, invalid UTF-8 included
        case 1: body.insert(at, 1, "{}[]\",:0-e.\\ \x80tnf"[rng() % 17]); break;
        case 2: body.erase(at, 1 + rng() % 8); break;
        default: body.resize(at); break;
      }
    }
    auto json = parse_json_object(body);
    if (!json.ok()) {
      EXPECT_EQ(json.error().status, 400);
      EXPECT_EQ(test::well_formed_reference(json.error().message), json.error().message);
      ++refused;
      continue;
    }
    const auto chat = parse_chat_request(*json);
    const auto completion = parse_completion_request(*json, 512);
    check_request(chat);
    check_request(completion);
    accepted += chat.ok() || completion.ok();
    refused += !chat.ok() || !completion.ok();
  }
  // Both outcomes are exercised.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 1000);
}

}  // namespace
}  // namespace rf::server
