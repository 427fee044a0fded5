// The real stories260K model against an independent engine's logits and greedy continuations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "model/session.h"
#include "runtime/perplexity.h"
#include "threading/thread_pool.h"

namespace rf {
namespace {

const std::string kShared = ROCMFORGE_SHARED_DIR;

nlohmann::json load_reference() {
  std::ifstream in(kShared + "/reference/stories260K.json");
  return nlohmann::json::parse(in);
}

const Model& stories() {
  static const Model model = [] {
    auto m = Model::load(kShared + "/models/stories260K.gguf");
    RF_CHECK(m.ok());
    return std::move(m).value();
  }();
  return model;
}

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TEST(Stories260K, PromptTokensMatchReference) {
  for (const auto& c : load_reference()["cases"]) {
    const auto expected = c["prompt_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(stories().tokenizer().encode(c["prompt"].get<std::string>(), true, true), expected);
  }
}

// Every prompt position's top-5 logits agree within 1e-2 (the reference's own paths differ by 6e-3).
TEST(Stories260K, LogitsMatchReference) {
  ThreadPool pool(2);
  for (const auto& c : load_reference()["cases"]) {
    const auto ids = c["prompt_ids"].get<std::vector<int32_t>>();
    auto session = Session::create(stories(), pool, {64, 7, true});  // a batch of 7 splits prompts unevenly
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE(session->eval(ids).ok());
    const auto& top = c["prompt_top"];
    ASSERT_EQ(top.size(), ids.size());
    for (size_t pos = 0; pos < ids.size(); ++pos) {
      const auto logits = session->logits(static_cast<int64_t>(pos));
      for (const auto& pair : top[pos]) {
        const int id = pair[0].get<int>();
        const double expected = pair[1].get<double>();
        EXPECT_NEAR(logits[static_cast<size_t>(id)], expected, 1e-2) << "position " << pos << " token " << id;
      }
      EXPECT_EQ(argmax(logits), top[pos][0][0].get<int>()) << "position " << pos;
    }
  }
}

TEST(Stories260K, GreedyContinuationMatchesReference) {
  ThreadPool pool(2);
  for (const auto& c : load_reference()["cases"]) {
    const auto ids = c["prompt_ids"].get<std::vector<int32_t>>();
    const auto expected = c["greedy_ids"].get<std::vector<int32_t>>();
    auto session = Session::create(stories(), pool, {512, 64, false});
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE(session->eval(ids).ok());
    std::vector<int32_t> generated;
    while (generated.size() < expected.size()) {
      const int32_t next = argmax(session->last_logits());
      generated.push_back(next);
      ASSERT_TRUE(session->eval(std::span(&next, 1)).ok());
    }
    EXPECT_EQ(generated, expected) << c["prompt"];
  }
}

// Rows are split across threads, but each row is computed the same way: results must be identical.
TEST(Stories260K, ThreadCountDoesNotChangeLogits) {
  const std::vector<int32_t> ids = stories().tokenizer().encode("Lily and Ben went to the park.", true, true);
  std::vector<std::vector<float>> results;
  for (const int threads : {1, 3}) {
    ThreadPool pool(threads);
    auto session = Session::create(stories(), pool, {64, 64, false});
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE(session->eval(ids).ok());
    results.emplace_back(session->last_logits().begin(), session->last_logits().end());
  }
  EXPECT_EQ(results[0], results[1]);
}

// Prefill in one chunk and token by token reach the same state.
TEST(Stories260K, BatchedPrefillMatchesTokenByToken) {
  const std::vector<int32_t> ids = stories().tokenizer().encode("Once upon a time, a little girl", true, true);
  ThreadPool pool(2);
  auto batched = Session::create(stories(), pool, {64, 64, false});
  auto stepped = Session::create(stories(), pool, {64, 64, false});
  ASSERT_TRUE(batched.ok() && stepped.ok());
  ASSERT_TRUE(batched->eval(ids).ok());
  for (const int32_t id : ids) ASSERT_TRUE(stepped->eval(std::span(&id, 1)).ok());
  const auto a = batched->last_logits();
  const auto b = stepped->last_logits();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f) << i;
}

TEST(Stories260K, RejectsTokensBeyondContextAndVocabulary) {
  ThreadPool pool(1);
  auto session = Session::create(stories(), pool, {4, 4, false});
  ASSERT_TRUE(session.ok());
  const std::vector<int32_t> too_many(5, 1);
  const Status over = session->eval(too_many);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("context"), std::string::npos);
  const std::vector<int32_t> bad_id = {1, 100000};
  const Status out_of_vocab = session->eval(bad_id);
  ASSERT_FALSE(out_of_vocab.ok());
  EXPECT_NE(out_of_vocab.error().message.find("vocabulary"), std::string::npos);
  EXPECT_EQ(session->n_past(), 0);
}

// llama.cpp reports 2.8079 (CTX 64), 2.7874 (128) and 2.7534 (256) on the sample text.
TEST(Stories260K, PerplexityMatchesReference) {
  std::ifstream in(kShared + "/reference/stories260K-sample.txt", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<int32_t> tokens = stories().tokenizer().encode(text, true, false);
  ThreadPool pool(2);
  const std::pair<int64_t, double> cases[] = {{64, 2.8079}, {128, 2.7874}, {256, 2.7534}};
  for (const auto& [n_ctx, expected] : cases) {
    auto result = compute_perplexity(stories(), pool, tokens, {n_ctx, 64, true});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_NEAR(result->perplexity, expected, 2e-3) << "CTX " << n_ctx;
  }
}

}  // namespace
}  // namespace rf
