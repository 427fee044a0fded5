// Tests for ThreadPool: coverage of every index, awkward sizes, dispatch storms, parking, shutdown.
#include "threading/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace rf {
namespace {

constexpr int64_t kSizes[] = {0, 1, 2, 3, 5, 7, 13, 64, 1000, 1023, 100003};

// A value per index whose sum is known exactly and order-dependent bugs (missed/duplicated) show up.
int64_t term(int64_t i) { return (i * 2654435761LL) % 1000003 + 1; }

int64_t serial_sum(int64_t n) {
  int64_t s = 0;
  for (int64_t i = 0; i < n; ++i) s += term(i);
  return s;
}

struct Range {
  int64_t begin, end;
  int thread;
};

class ThreadPoolTest : public ::testing::TestWithParam<int> {};

TEST_P(ThreadPoolTest, RunCallsEveryThreadIndexOnceOnDistinctThreads) {
  ThreadPool pool(GetParam());
  ASSERT_EQ(pool.size(), GetParam());
  std::vector<std::thread::id> ids(static_cast<size_t>(GetParam()));
  std::vector<std::atomic<int>> calls(static_cast<size_t>(GetParam()));
  pool.run([&](int t, int nt) {
    EXPECT_EQ(nt, GetParam());
    ids[static_cast<size_t>(t)] = std::this_thread::get_id();
    calls[static_cast<size_t>(t)].fetch_add(1);
  });
  for (auto& c : calls) EXPECT_EQ(c.load(), 1);
  EXPECT_EQ(ids[0], std::this_thread::get_id());
  EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), ids.size());
}

TEST_P(ThreadPoolTest, StaticSplitVisitsEachIndexOnceInBalancedContiguousRanges) {
  ThreadPool pool(GetParam());
  for (int64_t n : kSizes) {
    std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
    std::vector<int64_t> partial(static_cast<size_t>(pool.size()), 0);
    std::mutex mu;
    std::vector<Range> ranges;
    pool.parallel_for(n, [&](int64_t b, int64_t e, int t) {
      for (int64_t i = b; i < e; ++i) {
        visits[static_cast<size_t>(i)].fetch_add(1);
        partial[static_cast<size_t>(t)] += term(i);
      }
      std::lock_guard<std::mutex> lock(mu);
      ranges.push_back({b, e, t});
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(visits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " i=" << i;
    int64_t sum = 0;
    for (int64_t p : partial) sum += p;
    EXPECT_EQ(sum, serial_sum(n)) << "n=" << n;

    // One non-empty range per thread at most, in thread order, lengths within one of each other.
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
    EXPECT_EQ(ranges.size(), static_cast<size_t>(std::min<int64_t>(n, pool.size()))) << "n=" << n;
    for (size_t k = 0; k < ranges.size(); ++k) {
      EXPECT_LT(ranges[k].begin, ranges[k].end);
      if (k > 0) {
        EXPECT_EQ(ranges[k].begin, ranges[k - 1].end);
        EXPECT_LT(ranges[k - 1].thread, ranges[k].thread);
      }
      const int64_t len = ranges[k].end - ranges[k].begin;
      EXPECT_TRUE(len == n / pool.size() || len == n / pool.size() + 1) << "n=" << n << " len=" << len;
    }
  }
}

TEST_P(ThreadPoolTest, DynamicSplitVisitsEachIndexOnceInChunks) {
  ThreadPool pool(GetParam());
  for (int64_t n : kSizes) {
    for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{64}, n + 5}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
      std::vector<int64_t> partial(static_cast<size_t>(pool.size()), 0);
      pool.parallel_for_dynamic(n, chunk, [&](int64_t b, int64_t e, int t) {
        EXPECT_EQ(b % chunk, 0);
        EXPECT_TRUE(e - b == chunk || e == n);
        for (int64_t i = b; i < e; ++i) {
          visits[static_cast<size_t>(i)].fetch_add(1);
          partial[static_cast<size_t>(t)] += term(i);
        }
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(visits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " chunk=" << chunk << " i=" << i;
      }
      int64_t sum = 0;
      for (int64_t p : partial) sum += p;
      EXPECT_EQ(sum, serial_sum(n)) << "n=" << n << " chunk=" << chunk;
    }
  }
}

TEST_P(ThreadPoolTest, DynamicSplitSpreadsUnevenWork) {
  // Chunk 1 over skewed costs: every index still visited once, and with >1 thread the slow first
  // index does not serialise the rest onto one thread.
  ThreadPool pool(GetParam());
  const int64_t n = 40;
  std::vector<std::atomic<int>> owner(static_cast<size_t>(n));
  pool.parallel_for_dynamic(n, 1, [&](int64_t b, int64_t, int t) {
    if (b == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    owner[static_cast<size_t>(b)].store(t + 1);
  });
  std::set<int> owners;
  for (auto& o : owner) {
    ASSERT_GT(o.load(), 0);
    owners.insert(o.load());
  }
  if (pool.size() > 1) {
    EXPECT_GT(owners.size(), 1u);
  }
}

TEST_P(ThreadPoolTest, ManyTinyDispatchesAllComplete) {
  ThreadPool pool(GetParam());
  constexpr int kRuns = 100000;
  std::vector<int64_t> per_thread(static_cast<size_t>(pool.size()), 0);
  int64_t static_total = 0;
  std::atomic<int64_t> dynamic_total{0};
  for (int r = 0; r < kRuns; ++r) {
    switch (r % 3) {
      case 0:
        pool.run([&](int t, int) { ++per_thread[static_cast<size_t>(t)]; });
        break;
      case 1:
        pool.parallel_for(5, [&](int64_t b, int64_t e, int t) { per_thread[static_cast<size_t>(t)] += 0 * (e - b); });
        static_total += 5;
        break;
      default:
        pool.parallel_for_dynamic(7, 2, [&](int64_t b, int64_t e, int) { dynamic_total.fetch_add(e - b); });
        break;
    }
  }
  const int64_t runs_case0 = (kRuns + 2) / 3;
  for (int64_t c : per_thread) EXPECT_EQ(c, runs_case0);
  EXPECT_EQ(dynamic_total.load(), 7 * (kRuns / 3));
  EXPECT_EQ(static_total, 5 * ((kRuns + 1) / 3));
}

TEST_P(ThreadPoolTest, DispatchAfterWorkersParked) {
  // Sleeping past the spin budget makes the workers park on the futex; each dispatch must wake them.
  ThreadPool pool(GetParam());
  for (int r = 0; r < 5; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    std::atomic<int> count{0};
    pool.run([&](int, int) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), pool.size());
  }
}

TEST_P(ThreadPoolTest, DispatchRacingTheSpinToParkTransition) {
  // Gaps straddling the 100 us spin budget make dispatches land while workers are deciding to park.
  ThreadPool pool(GetParam());
  int64_t total = 0;
  for (int r = 0; r < 300; ++r) {
    std::this_thread::sleep_for(std::chrono::microseconds((r % 7) * 30));
    std::atomic<int64_t> sum{0};
    pool.parallel_for(101, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(term(i));
    });
    total += sum.load();
  }
  EXPECT_EQ(total, 300 * serial_sum(101));
}

TEST_P(ThreadPoolTest, CallerExceptionIsRethrownAfterWorkersFinish) {
  ThreadPool pool(GetParam());
  std::atomic<int> worker_done{0};
  EXPECT_THROW(pool.run([&](int t, int) {
    if (t == 0) throw std::runtime_error("caller task failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    worker_done.fetch_add(1);
  }),
               std::runtime_error);
  EXPECT_EQ(worker_done.load(), pool.size() - 1);
  std::atomic<int> count{0};
  pool.run([&](int, int) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), pool.size());
}

INSTANTIATE_TEST_SUITE_P(Threads, ThreadPoolTest, ::testing::Values(1, 2, 3, 4));

TEST(ThreadPoolLifetime, DestroyImmediatelyIdleAndAfterWork) {
  for (int n = 1; n <= 4; ++n) {
    { ThreadPool pool(n); }  // workers may not even have started waiting
    {
      ThreadPool pool(n);
      std::this_thread::sleep_for(std::chrono::milliseconds(3));  // workers parked
    }
    {
      ThreadPool pool(n);
      std::atomic<int> count{0};
      pool.run([&](int, int) { count.fetch_add(1); });
      EXPECT_EQ(count.load(), n);
    }  // workers still spinning
  }
}

TEST(ThreadPoolLifetime, PinningRequestDoesNotBreakDispatch) {
  ::setenv("ROCMFORGE_PIN", "1", 1);
  auto pool = std::make_unique<ThreadPool>(3);
  ::unsetenv("ROCMFORGE_PIN");
  std::atomic<int> count{0};
  pool->parallel_for(1000, [&](int64_t b, int64_t e, int) { count.fetch_add(static_cast<int>(e - b)); });
  EXPECT_EQ(count.load(), 1000);
}

}  // namespace
}  // namespace rf
