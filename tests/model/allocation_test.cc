// The token loop never allocates: global operator new is counted around Session::eval and sampling.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "model/session.h"
#include "sampling/sampler.h"
#include "threading/thread_pool.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace rf {
namespace {

TEST(Allocation, DecodeStepsDoNotAllocate) {
  auto model = Model::load(std::string(ROCMFORGE_SHARED_DIR) + "/models/stories260K.gguf");
  ASSERT_TRUE(model.ok());
  ThreadPool pool(2);
  auto session = Session::create(*model, pool, {256, 16, false});
  ASSERT_TRUE(session.ok());
  SamplingParams params;
  params.seed = 7;
  Sampler sampler(params, static_cast<int>(model->config().n_vocab));
  const std::vector<int32_t> prompt = model->tokenizer().encode("Once upon a time", true, true);
  ASSERT_TRUE(session->eval(prompt).ok());

  g_allocations = 0;
  g_counting = true;
  int32_t token = 0;
  for (int i = 0; i < 64; ++i) {
    token = sampler.sample(session->last_logits());
    sampler.accept(token);
    ASSERT_TRUE(session->eval(std::span(&token, 1)).ok());
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_EQ(session->n_past(), static_cast<int64_t>(prompt.size()) + 64);

  // The counter itself works: an allocation while counting is seen.
  g_counting = true;
  auto* probe = new int(token);
  g_counting = false;
  delete probe;
  EXPECT_EQ(g_allocations.load(), 1);
}

}  // namespace
}  // namespace rf
