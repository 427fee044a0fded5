// Engine: continuous batching returns, for every request, exactly what the request returns alone
// (greedy), also under cancellation, preemption and prefix reuse; refusals name the problem.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/session.h"
#include "runtime/engine.h"
#include "sampling/sampler.h"

namespace rf {
namespace {

const Model& stories() {
  static const Model model = [] {
    auto m = Model::load(std::string(ROCMFORGE_SHARED_DIR) + "/models/stories260K.gguf");
    EXPECT_TRUE(m.ok());
    return std::move(m).value();
  }();
  return model;
}

struct Outcome {
  std::vector<int32_t> tokens;
  GenerationResult result;
};

// A submitted request whose tokens and result can be awaited.
class Pending {
 public:
  Pending(Engine& engine, GenerationRequest request, int cancel_after = -1, int token_delay_ms = 0) {
    auto r = engine.submit(
        std::move(request),
        [this, &engine, cancel_after, token_delay_ms](const GeneratedToken& t) {
          std::this_thread::sleep_for(std::chrono::milliseconds(token_delay_ms));  // a slow consumer
          std::lock_guard lock(mu_);
          outcome_.tokens.push_back(t.token);
          if (cancel_after >= 0 && static_cast<int>(outcome_.tokens.size()) == cancel_after) engine.cancel(id_);
          return true;
        },
        [this](const GenerationResult& result) {
          std::lock_guard lock(mu_);
          outcome_.result = result;
          done_.set_value();
        });
    status_ = r.status;
    std::lock_guard lock(mu_);
    id_ = r.id;
    if (r.status != SubmitResult::kAccepted) done_.set_value();  // nothing will be called back
  }
  SubmitResult::Status status() const { return status_; }
  Outcome wait() {
    done_.get_future().wait();
    std::lock_guard lock(mu_);
    return outcome_;
  }

 private:
  std::mutex mu_;
  uint64_t id_ = 0;
  SubmitResult::Status status_;
  Outcome outcome_;
  std::promise<void> done_;
};

GenerationRequest greedy(std::vector<int32_t> prompt, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.0f;
  return r;
}

std::vector<int32_t> prompt_of(const std::string& text) { return stories().tokenizer().encode(text, true, false); }

// Greedy tokens from a plain Session: the reference for every engine run.
std::vector<int32_t> session_greedy(const std::vector<int32_t>& prompt, int64_t max_tokens) {
  ThreadPool pool(1);
  auto session = Session::create(stories(), pool, {0, 512, false});
  EXPECT_TRUE(session.ok());
  std::vector<int32_t> out;
  EXPECT_TRUE(session->eval(prompt).ok());
  Sampler sampler(greedy({}, 0).sampling, static_cast<int>(stories().config().n_vocab));
  for (int64_t i = 0; i < max_tokens; ++i) {
    const int32_t t = sampler.sample(session->last_logits());
    if (stories().tokenizer().is_end_of_generation(t)) break;
    out.push_back(t);
    if (session->n_past() + 1 >= session->n_ctx()) break;
    EXPECT_TRUE(session->eval(std::span(&t, 1)).ok());
  }
  return out;
}

const std::vector<std::string> kPrompts = {
    "Once upon a time", "Lily and Ben went to the park", "The cat", "One day, a little girl named Sue found",
    "Tom had a big red ball. He", "The sun was hot", "Mom said", "There was a tree"};

TEST(Engine, ConcurrentGreedyRequestsMatchTheirSoloRuns) {
  EngineParams params;
  params.n_threads = 2;
  params.max_running = 16;
  params.n_ctx = 4096;
  params.step_tokens = 64;  // forces chunked prefill next to decoding
  auto engine = Engine::create(stories(), params);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  std::vector<std::vector<int32_t>> solo;
  for (const auto& p : kPrompts) solo.push_back(session_greedy(prompt_of(p), 48));

  std::vector<std::unique_ptr<Pending>> pending;
  for (int i = 0; i < 32; ++i) {
    const int cancel_after = i % 5 == 4 ? 10 : -1;
    pending.push_back(std::make_unique<Pending>(**engine, greedy(prompt_of(kPrompts[i % kPrompts.size()]), 48), cancel_after));
    ASSERT_EQ(pending.back()->status(), SubmitResult::kAccepted);
  }
  for (int i = 0; i < 32; ++i) {
    SCOPED_TRACE(i);
    const Outcome o = pending[static_cast<size_t>(i)]->wait();
    const auto& want = solo[static_cast<size_t>(i) % kPrompts.size()];
    if (i % 5 == 4) {
      EXPECT_EQ(o.result.reason, FinishReason::kCancelled);
      ASSERT_LE(o.tokens.size(), want.size());
      EXPECT_GE(o.tokens.size(), 10u);
      EXPECT_TRUE(std::equal(o.tokens.begin(), o.tokens.end(), want.begin()));
    } else {
      EXPECT_EQ(o.tokens, want);
      EXPECT_EQ(o.result.completion_tokens, static_cast<int64_t>(want.size()));
      EXPECT_EQ(o.result.reason, want.size() == 48 ? FinishReason::kLength : FinishReason::kStop);
    }
  }
  const EngineMetrics m = (*engine)->metrics();
  EXPECT_EQ(m.requests_finished, 32);
  EXPECT_EQ(m.kv_blocks_used, 0);
}

TEST(Engine, Q8_0PoolBatchedMatchesAlone) {
  EngineParams params;
  params.n_threads = 2;
  params.max_running = 8;
  params.n_ctx = 2048;
  params.k_type = cpu::KvFormat::kQ8_0;
  params.v_type = cpu::KvFormat::kQ8_0;
  auto engine = Engine::create(stories(), params);
  ASSERT_TRUE(engine.ok());
  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : kPrompts) alone.push_back(Pending(**engine, greedy(prompt_of(p), 40)).wait().tokens);
  std::vector<std::unique_ptr<Pending>> pending;
  for (const auto& p : kPrompts) pending.push_back(std::make_unique<Pending>(**engine, greedy(prompt_of(p), 40)));
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    SCOPED_TRACE(i);
    const Outcome o = pending[i]->wait();
    EXPECT_EQ(o.tokens, alone[i]);
    EXPECT_GT(o.result.completion_tokens, 0);
  }
}

TEST(Engine, SmallPoolPreemptsAndStillMatches) {
  EngineParams params;
  params.n_threads = 2;
  params.max_running = 6;
  params.n_ctx = 8 * 32;  // 8 blocks for 6 sequences of up to 3 blocks each
  auto engine = Engine::create(stories(), params);
  ASSERT_TRUE(engine.ok());
  std::vector<std::unique_ptr<Pending>> pending;
  for (int i = 0; i < 6; ++i) pending.push_back(std::make_unique<Pending>(**engine, greedy(prompt_of(kPrompts[static_cast<size_t>(i)]), 80)));
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(pending[static_cast<size_t>(i)]->wait().tokens, session_greedy(prompt_of(kPrompts[static_cast<size_t>(i)]), 80));
  }
  EXPECT_GT((*engine)->metrics().preemptions, 0);
}

TEST(Engine, PrefixCacheSkipsSharedBlocksFromAnySequence) {
  EngineParams params;
  params.max_running = 4;
  params.n_ctx = 2048;
  auto engine = Engine::create(stories(), params);
  ASSERT_TRUE(engine.ok());
  std::string story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun.";
  story += " One day, she saw a big dog in the park. The dog was brown and had a long tail.";
  const std::vector<int32_t> first = prompt_of(story + " Lily wanted to");
  const std::vector<int32_t> second = prompt_of(story + " The dog ran to");
  ASSERT_GT(first.size(), 64u);
  const Outcome a = Pending(**engine, greedy(first, 8)).wait();
  EXPECT_EQ(a.result.cached_prompt_tokens, 0);
  const Outcome b = Pending(**engine, greedy(second, 8)).wait();
  size_t common = 0;
  while (common < first.size() && first[common] == second[common]) ++common;
  EXPECT_EQ(b.result.cached_prompt_tokens, static_cast<int64_t>(common / 32 * 32));
  EXPECT_GE(b.result.cached_prompt_tokens, 64);
  EXPECT_EQ(b.tokens, session_greedy(second, 8));
  const EngineMetrics m = (*engine)->metrics();
  EXPECT_EQ(m.prefix_lookups, 2);
  EXPECT_EQ(m.prefix_hits, 1);
  EXPECT_EQ(m.prompt_tokens_cached, b.result.cached_prompt_tokens);
  EXPECT_GT(m.kv_blocks_cached, 0);
}

TEST(Engine, RefusalsNameTheProblem) {
  EngineParams params;
  params.max_running = 1;
  params.max_waiting = 1;
  params.n_ctx = 256;
  auto engine = Engine::create(stories(), params);
  ASSERT_TRUE(engine.ok());
  const auto refuse = [&](GenerationRequest r) { return (*engine)->submit(std::move(r), [](const GeneratedToken&) { return true; }, [](const GenerationResult&) {}); };
  EXPECT_EQ(refuse(greedy({}, 4)).status, SubmitResult::kInvalid);
  auto bad = refuse(greedy({1, 99999}, 4));
  EXPECT_EQ(bad.status, SubmitResult::kInvalid);
  EXPECT_NE(bad.message.find("99999"), std::string::npos);
  auto too_long = refuse(greedy(std::vector<int32_t>(300, 5), 4));
  EXPECT_EQ(too_long.status, SubmitResult::kInvalid);
  EXPECT_NE(too_long.message.find("300 tokens"), std::string::npos);
  GenerationRequest bad_sampling = greedy({1, 2}, 4);
  bad_sampling.sampling.top_p = 7.0f;
  EXPECT_EQ(refuse(bad_sampling).status, SubmitResult::kInvalid);

  // One running (slowly: 10 ms per token, until the context ends), one waiting, then the queue
  // is full.
  Pending running(**engine, greedy(prompt_of("Once"), 0), -1, 10);
  for (int i = 0; i < 400 && (*engine)->metrics().requests_running == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Pending queued(**engine, greedy(prompt_of("Once"), 0));
  ASSERT_EQ(queued.status(), SubmitResult::kAccepted);
  bool saw_full = false;
  for (int i = 0; i < 3 && !saw_full; ++i) saw_full = refuse(greedy(prompt_of("The"), 4)).status == SubmitResult::kQueueFull;
  EXPECT_TRUE(saw_full);
  engine->reset();  // cancels both before they go out of scope
  EXPECT_EQ(running.wait().result.reason, FinishReason::kCancelled);
  EXPECT_EQ(queued.wait().result.reason, FinishReason::kCancelled);
}

}  // namespace
}  // namespace rf
