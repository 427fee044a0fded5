// Paged KV: a sequence whose blocks are scattered over a larger pool gives bit-identical attention
// to the same sequence in a contiguous cache, on every ISA level.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "kv/kv_cache.h"
#include "threading/thread_pool.h"

namespace rf {
namespace {

using cpu::KvFormat;

TEST(PagedKv, ScatteredBlocksMatchContiguousExactly) {
  constexpr int64_t kHeadsKv = 2, kGroup = 3, kHeadDim = 40, kLayers = 2;
  constexpr int64_t kPositions = 300;  // 10 blocks, the last one partly filled
  const int64_t kv_dim = kHeadsKv * kHeadDim, q_dim = kHeadsKv * kGroup * kHeadDim;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(kPositions * kv_dim)), v(k.size());
  for (float& x : k) x = uni(rng);
  for (float& x : v) x = uni(rng);
  std::vector<float> q(static_cast<size_t>(37 * q_dim));
  for (float& x : q) x = 3.0f * uni(rng);

  for (const KvFormat type : {KvFormat::kF32, KvFormat::kQ8_0}) {
    KvCache contiguous(kLayers, kPositions, kHeadsKv, kHeadDim, type, type);
    KvCache pool(kLayers, 40 * KvCache::kBlockPositions, kHeadsKv, kHeadDim, type, type);
    std::vector<int32_t> table(40);
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), rng);
    table.resize(10);
    for (int64_t l = 0; l < kLayers; ++l) {
      contiguous.store(l, 0, kPositions, k.data(), v.data(), kv_dim);
      // Stored in pieces that straddle block boundaries, as prefill chunks and decode steps do.
      for (int64_t pos = 0; pos < kPositions;) {
        const int64_t n = std::min<int64_t>(kPositions - pos, 1 + pos % 45);
        pool.store(l, table, pos, n, k.data() + pos * kv_dim, v.data() + pos * kv_dim, kv_dim);
        pos += n;
      }
    }
    ThreadPool threads(2);
    for (const cpu::Isa isa : cpu::available_isas()) {
      const cpu::KernelTable& kt = cpu::kernels_for(isa);
      for (const auto& [n_tokens, pos0] : {std::pair<int64_t, int64_t>{1, 299}, {37, 263}, {5, 0}, {1, 40}}) {
        SCOPED_TRACE(testing::Message() << cpu::isa_name(isa) << " n_tokens " << n_tokens << " pos0 " << pos0);
        cpu::AttentionWorkspace ws({kHeadsKv * kGroup, kHeadsKv, kHeadDim}, threads.size(), 37, kPositions);
        std::vector<float> want(static_cast<size_t>(n_tokens * q_dim)), got(want.size());
        cpu::attention(threads, contiguous.layer(1), q.data(), n_tokens, pos0, 0.15f, want.data(), ws, kt.ops);
        cpu::attention(threads, pool.layer(1, table), q.data(), n_tokens, pos0, 0.15f, got.data(), ws, kt.ops);
        ASSERT_EQ(want, got);
      }
    }
  }
}

}  // namespace
}  // namespace rf
