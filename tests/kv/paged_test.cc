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

TEST(PagedKv, ManySequencesInOneRegionMatchOneByOne) {
  constexpr int64_t kHeadsKv = 2, kGroup = 4, kHeadDim = 64, kLayers = 1;
  const int64_t kv_dim = kHeadsKv * kHeadDim, q_dim = kHeadsKv * kGroup * kHeadDim;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  // (tokens, pos0) per sequence: decode steps at short and long contexts (the long ones split
  // their positions across threads and run alone), and prompt chunks.
  const std::vector<std::pair<int64_t, int64_t>> seqs = {{1, 5}, {1, 700}, {7, 0}, {1, 40}, {20, 100}, {1, 1100}, {3, 33}};
  KvCache pool(kLayers, 80 * KvCache::kBlockPositions, kHeadsKv, kHeadDim, cpu::KvFormat::kF32, cpu::KvFormat::kF32);
  std::vector<std::vector<int32_t>> tables;
  int32_t next_block = 0;
  std::vector<float> q, k, v;
  for (const auto& [n, pos0] : seqs) {
    const int64_t len = pos0 + n;
    std::vector<int32_t> table;
    for (int64_t b = 0; b * KvCache::kBlockPositions < len; ++b) table.push_back(next_block++);
    k.resize(static_cast<size_t>(len * kv_dim));
    v.resize(k.size());
    for (float& x : k) x = uni(rng);
    for (float& x : v) x = uni(rng);
    pool.store(0, table, 0, len, k.data(), v.data(), kv_dim);
    tables.push_back(std::move(table));
  }
  int64_t total = 0;
  for (const auto& [n, pos0] : seqs) total += n;
  q.resize(static_cast<size_t>(total * q_dim));
  for (float& x : q) x = 3.0f * uni(rng);
  ThreadPool threads(2);
  cpu::AttentionWorkspace ws({kHeadsKv * kGroup, kHeadsKv, kHeadDim}, threads.size(), 32, 2048);
  std::vector<float> want(q.size()), got(q.size());
  std::vector<cpu::AttentionCall> calls;
  int64_t t0 = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto [n, pos0] = seqs[i];
    cpu::attention(threads, pool.layer(0, tables[i]), q.data() + t0 * q_dim, n, pos0, 0.125f, want.data() + t0 * q_dim, ws);
    calls.push_back({pool.layer(0, tables[i]), q.data() + t0 * q_dim, n, pos0, got.data() + t0 * q_dim});
    t0 += n;
  }
  std::vector<int64_t> scratch;
  cpu::attention_many(threads, calls, 0.125f, ws, scratch);
  EXPECT_EQ(want, got);
}

}  // namespace
}  // namespace rf
