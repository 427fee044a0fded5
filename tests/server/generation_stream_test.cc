// GenerationStream with a real vocabulary: random token ids fed from an "engine" thread come out on
// the taking thread as the reference text (decode, U+FFFD for broken bytes, cut at the first stop
// string or end-of-generation token).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gguf/gguf.h"
#include "server/generation_stream.h"
#include "support/utf8_reference.h"

namespace rf::server {
namespace {

const std::string kModel = std::string(ROCMFORGE_SHARED_DIR) + "/models/stories260K.gguf";

class GenerationStreamTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = gguf::File::open(kModel);
    ASSERT_TRUE(file.ok()) << file.error().message;
    auto tok = Tokenizer::from_gguf(*file);
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    tokenizer_ = new Tokenizer(std::move(tok).value());
  }
  static void TearDownTestSuite() { delete tokenizer_; }

  // Random ids that do not end generation; byte tokens included, so characters split across ids.
  std::vector<int32_t> random_ids(std::mt19937& rng, int n) const {
    std::uniform_int_distribution<int32_t> pick(0, tokenizer_->n_vocab() - 1);
    std::vector<int32_t> ids;
    while (static_cast<int>(ids.size()) < n) {
      const int32_t id = pick(rng);
      if (!tokenizer_->is_end_of_generation(id)) ids.push_back(id);
    }
    return ids;
  }

  // The text a client must see: decoded, ill-formed bytes replaced, cut at the earliest stop.
  std::string reference(const std::vector<int32_t>& ids, const std::vector<std::string>& stops, bool strip) const {
    std::string text;
    if (strip) {
      text = tokenizer_->decode(ids, false);
    } else {
      for (const int32_t id : ids) text += tokenizer_->token_to_piece(id, false);
    }
    text = test::well_formed_reference(text);
    size_t cut = std::string::npos;
    for (const std::string& s : stops) cut = std::min(cut, text.find(s));
    return cut == std::string::npos ? text : text.substr(0, cut);
  }

  // Feeds ids on another thread the way the engine does and collects what take() returns.
  struct Collected {
    std::string text;
    size_t logprobs = 0;
    size_t tokens_accepted = 0;
    GenerationResult result;
  };
  Collected run(GenerationStream& stream, const std::vector<int32_t>& ids) const {
    Collected c;
    std::thread engine([&] {
      for (const int32_t id : ids) {
        GeneratedToken t;
        t.token = id;
        t.logprob = -1.5f;
        t.top = {{id, -1.5f}, {(id + 1) % tokenizer_->n_vocab(), -2.5f}};
        ++c.tokens_accepted;
        if (!stream.on_token(t)) break;
      }
      GenerationResult r;
      r.reason = FinishReason::kLength;
      r.completion_tokens = static_cast<int64_t>(c.tokens_accepted);
      stream.on_done(r);
    });
    for (;;) {
      StreamDelta d = stream.take(std::chrono::milliseconds(200));
      EXPECT_EQ(test::well_formed_reference(d.text), d.text) << "only whole characters go out";
      c.text += d.text;
      c.logprobs += d.logprobs.size();
      if (d.result) {
        c.result = *d.result;
        break;
      }
    }
    engine.join();
    return c;
  }

  static Tokenizer* tokenizer_;
};

Tokenizer* GenerationStreamTest::tokenizer_ = nullptr;

TEST_F(GenerationStreamTest, TextMatchesReferenceWithoutStops) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 40; ++trial) {
    const auto ids = random_ids(rng, 1 + trial * 7);
    const bool strip = trial % 2 == 1;
    GenerationStream stream(*tokenizer_, {}, strip, false);
    const Collected c = run(stream, ids);
    EXPECT_EQ(c.text, reference(ids, {}, strip)) << "trial " << trial;
    EXPECT_EQ(c.tokens_accepted, ids.size());
    EXPECT_EQ(c.logprobs, 0u);
    EXPECT_TRUE(stream.finished());
  }
}

TEST_F(GenerationStreamTest, StopsAtStopStringsFoundInTheOutput) {
  std::mt19937 rng(5);
  int stopped_early = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const auto ids = random_ids(rng, 20 + trial * 5);
    // A stop string taken from the middle of the text itself, so it is sure to occur.
    const std::string full = reference(ids, {}, false);
    const size_t at = full.size() / 3;
    std::string stop = full.substr(at, 3);
    while (!stop.empty() && test::well_formed_reference(stop) != stop) stop.pop_back();
    if (stop.empty()) continue;
    GenerationStream stream(*tokenizer_, {stop, "never-occurs-\x01"}, false, true);
    const Collected c = run(stream, ids);
    EXPECT_EQ(c.text, reference(ids, {stop}, false)) << "trial " << trial;
    EXPECT_EQ(c.logprobs, c.tokens_accepted) << "one logprob entry per consumed token";
    if (c.tokens_accepted < ids.size()) ++stopped_early;
  }
  EXPECT_GT(stopped_early, 20) << "the stop string ended generation";
}

TEST_F(GenerationStreamTest, EndOfGenerationTokenEndsWithoutText) {
  std::mt19937 rng(9);
  auto ids = random_ids(rng, 30);
  const std::vector<int32_t> before(ids.begin(), ids.begin() + 12);
  ids.insert(ids.begin() + 12, tokenizer_->eos_id());
  GenerationStream stream(*tokenizer_, {}, false, false);
  const Collected c = run(stream, ids);
  EXPECT_EQ(c.tokens_accepted, 13u);
  EXPECT_EQ(c.text, reference(before, {}, false));
}

TEST_F(GenerationStreamTest, TakeAfterTheEndReturnsAtOnce) {
  GenerationStream stream(*tokenizer_, {}, false, false);
  GenerationResult r;
  r.reason = FinishReason::kStop;
  stream.on_done(r);
  ASSERT_TRUE(stream.take(std::chrono::milliseconds(10)).result.has_value());
  const auto start = std::chrono::steady_clock::now();
  const StreamDelta again = stream.take(std::chrono::seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_FALSE(again.result.has_value());
  EXPECT_TRUE(again.text.empty());
}

}  // namespace
}  // namespace rf::server
