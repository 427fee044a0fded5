// Checks the design property that Sampler::sample() and accept() never allocate, by counting
// global operator new calls (this binary replaces it) around warm sampling calls.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "sampling/sampler.h"
#include "test_util.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  n = n == 0 ? 1 : n;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n) : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace rf {
namespace {

// Allocations made while running fn.
template <class Fn>
long allocations_during(Fn fn) {
  g_allocations.store(0);
  g_counting.store(true);
  fn();
  g_counting.store(false);
  return g_allocations.load();
}

volatile void* g_sink;

TEST(SamplerAllocation, CounterSeesAllocations) {
  // Guards the test itself: a replaced operator new that is never called would pass vacuously.
  const long n = allocations_during([] { g_sink = ::operator new(24); });
  ::operator delete(const_cast<void*>(g_sink));
  EXPECT_EQ(n, 1);
  EXPECT_GE(allocations_during([] { std::vector<int> v(100); g_sink = v.data(); }), 1);
}

TEST(SamplerAllocation, SampleAndAcceptNeverAllocate) {
  constexpr int kVocab = 5003;
  SamplingParams sampled;  // defaults plus every penalty on
  sampled.seed = 1;
  sampled.repeat_penalty = 1.1f;
  sampled.frequency_penalty = 0.1f;
  sampled.presence_penalty = 0.2f;
  SamplingParams full_sort = sampled;  // top-k off: top-p sorts the whole vocabulary
  full_sort.top_k = 0;
  SamplingParams greedy = sampled;
  greedy.temperature = 0.0f;
  const auto logits = testing::random_logits(kVocab, 3, -4.0f, 4.0f);
  for (const SamplingParams& p : {sampled, full_sort, greedy}) {
    Sampler sampler(p, kVocab);
    for (int32_t t = 0; t < 100; ++t) sampler.accept(t % 37);  // fill the penalty ring
    int64_t checksum = 0;
    const long n = allocations_during([&] {
      for (int i = 0; i < 50; ++i) {
        const int32_t t = sampler.sample(logits);
        sampler.accept(t);
        checksum += t;
      }
      sampler.reset();
    });
    EXPECT_EQ(n, 0) << "temperature=" << p.temperature << " top_k=" << p.top_k;
    EXPECT_GE(checksum, 0);
  }
}

}  // namespace
}  // namespace rf
