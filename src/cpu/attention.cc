// Work split of attention: items of (KV head, query-token block, position range) over the pool.
#include "cpu/attention.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "cpu/kernels.h"

namespace rf::cpu {
namespace {

// Query rows (tokens x heads of a group) per item: K/V tiles are read once for all of them, and
// their [rows][head_dim] accumulators should stay in L1/L2.
constexpr int64_t kRowsPerItem = 32;
// Splitting positions across threads pays off only for ranges long enough to hide the merge.
constexpr int64_t kMinSplitPositions = 256;
constexpr int64_t kItemsPerThread = 4;  // enough items for the dynamic split to even out
constexpr int64_t kMaxSplits = 64;
// Below this many multiply-adds, dispatching to the pool costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 14;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
uint64_t whole_lines(uint64_t floats) { return (floats + 15) / 16 * 16; }  // 64-byte multiples

int64_t padded_dim(int64_t head_dim) { return ceil_div(head_dim, kKvBlock) * kKvBlock; }

// Float counts of one thread's scratch pieces, in AttentionScratch order.
struct ScratchLayout {
  uint64_t q, q8, q8_d, q8_sum, o, p, v, m, c, l;
  uint64_t total() const { return q + q8 + q8_d + q8_sum + o + p + v + m + c + l; }
};

ScratchLayout scratch_layout(int64_t rows, int64_t head_dim) {
  const auto r = static_cast<uint64_t>(rows);
  const auto dim = static_cast<uint64_t>(padded_dim(head_dim));
  const uint64_t blocks = dim / kKvBlock;
  const uint64_t step = kKvStep;
  const uint64_t lanes = kKvTile;
  return {whole_lines(r * dim), whole_lines(r * dim / 4), whole_lines(r * blocks), whole_lines(r * blocks),
          whole_lines(r * dim), whole_lines(r * step), whole_lines(step * dim), whole_lines(r), whole_lines(r),
          whole_lines(r * lanes)};
}

// Merges the per-range partial results of KV head h: out = Σ_s e^(m_s - M) o_s / Σ_s e^(m_s - M) l_s.
void merge_splits(const AttentionShape& sh, int64_t n_splits, int64_t rows, int64_t h, const float* part_out,
                  const float* part_ms, float* out) {
  const int64_t group = sh.n_head / sh.n_head_kv;
  const int64_t hd = sh.head_dim;
  for (int64_t r = 0; r < rows; ++r) {
    float max_all = -INFINITY;
    for (int64_t s = 0; s < n_splits; ++s) max_all = std::max(max_all, part_ms[((s * sh.n_head_kv + h) * rows + r) * 2]);
    float* dst = out + (r / group) * sh.n_head * hd + (h * group + r % group) * hd;
    std::fill_n(dst, hd, 0.0f);
    float sum = 0.0f;
    for (int64_t s = 0; s < n_splits; ++s) {
      const float* ms = part_ms + ((s * sh.n_head_kv + h) * rows + r) * 2;
      if (ms[1] == 0.0f) continue;  // the range held no position this row sees
      const float w = std::exp(ms[0] - max_all);
      sum += w * ms[1];
      const float* o = part_out + ((s * sh.n_head_kv + h) * rows + r) * hd;
      for (int64_t i = 0; i < hd; ++i) dst[i] += w * o[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < hd; ++i) dst[i] *= inv;
  }
}

}  // namespace

AttentionWorkspace::AttentionWorkspace(const AttentionShape& shape, int n_threads, int64_t max_tokens, int64_t n_ctx)
    : shape_(shape), n_threads_(n_threads) {
  RF_CHECK(shape.n_head_kv > 0 && shape.n_head % shape.n_head_kv == 0 && shape.head_dim > 0);
  const int64_t group = shape.n_head / shape.n_head_kv;
  tokens_per_block_ = std::clamp<int64_t>(kRowsPerItem / group, 1, std::max<int64_t>(max_tokens, 1));
  rows_ = tokens_per_block_ * group;
  thread_floats_ = scratch_layout(rows_, shape.head_dim).total();
  thread_buf_ = AlignedBuffer<float>(thread_floats_ * static_cast<uint64_t>(n_threads));
  if (n_threads > 1) {
    const int64_t wanted = ceil_div(kItemsPerThread * n_threads, shape.n_head_kv);
    max_splits_ = std::clamp<int64_t>(std::min(wanted, n_ctx / kMinSplitPositions), 1, kMaxSplits);
  }
  if (max_splits_ > 1) {
    const auto cells = static_cast<uint64_t>(max_splits_ * shape.n_head_kv * rows_);
    partial_out_ = AlignedBuffer<float>(cells * static_cast<uint64_t>(shape.head_dim));
    partial_max_sum_ = AlignedBuffer<float>(cells * 2);
  }
}

AttentionScratch AttentionWorkspace::thread_scratch(int thread) {
  RF_CHECK(thread >= 0 && thread < n_threads_);
  const ScratchLayout lay = scratch_layout(rows_, shape_.head_dim);
  float* at = thread_buf_.data() + static_cast<uint64_t>(thread) * thread_floats_;
  const auto take = [&at](uint64_t floats) {
    float* p = at;
    at += floats;
    return p;
  };
  AttentionScratch s;
  s.q = take(lay.q);
  s.q8 = reinterpret_cast<int8_t*>(take(lay.q8));
  s.q8_d = take(lay.q8_d);
  s.q8_sum = reinterpret_cast<int32_t*>(take(lay.q8_sum));
  s.o = take(lay.o);
  s.p = take(lay.p);
  s.v = take(lay.v);
  s.m = take(lay.m);
  s.c = take(lay.c);
  s.l = take(lay.l);
  return s;
}

void attention(ThreadPool& pool, const KvLayerView& kv, const float* q, int64_t n_tokens, int64_t pos0, float scale,
               float* out, AttentionWorkspace& ws) {
  attention(pool, kv, q, n_tokens, pos0, scale, out, ws, kernels().ops);
}

void attention(ThreadPool& pool, const KvLayerView& kv, const float* q, int64_t n_tokens, int64_t pos0, float scale,
               float* out, AttentionWorkspace& ws, const OpsKernels& ops) {
  const AttentionShape& sh = ws.shape();
  const int64_t group = sh.n_head / sh.n_head_kv;
  const int64_t hd = sh.head_dim;
  const int64_t q_dim = sh.n_head * hd;
  const int64_t block = ws.tokens_per_block();
  const int64_t n_blocks = ceil_div(n_tokens, block);
  const int64_t kv_len = pos0 + n_tokens;
  RF_CHECK(kv_len <= kv.n_blocks * kKvStep);

  // Short batches (decode) have too few (head, block) items for the pool: split the positions.
  int64_t split_len = kv_len;
  if (n_blocks == 1) {
    const int64_t wanted = ceil_div(kItemsPerThread * pool.size(), sh.n_head_kv);
    const int64_t splits = std::min({wanted, kv_len / kMinSplitPositions, ws.max_splits()});
    if (splits > 1) split_len = ceil_div(ceil_div(kv_len, splits), kKvStep) * kKvStep;
  }
  const int64_t n_splits = ceil_div(kv_len, split_len);
  const int64_t per_block = sh.n_head_kv * n_splits;

  const auto body = [&](int64_t begin, int64_t end, int thread) {
    AttentionArgs a;
    a.head_dim = hd;
    a.group = group;
    a.q_stride = q_dim;
    a.scale = scale;
    a.k_format = kv.k_format;
    a.v_format = kv.v_format;
    a.blocks = kv.blocks;
    a.k_panel_bytes = kv.k_panel_bytes;
    a.k_block_bytes = kv.k_block_bytes;
    a.v_row_bytes = kv.v_row_bytes;
    a.v_block_bytes = kv.v_block_bytes;
    a.scratch = ws.thread_scratch(thread);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t blk = n_blocks - 1 - item / per_block;  // later tokens see more: hand them out first
      const int64_t h = item % per_block / n_splits;
      const int64_t s = item % n_splits;
      const int64_t tok0 = blk * block;
      const int64_t n_tok = std::min(block, n_tokens - tok0);
      a.n_rows = n_tok * group;
      a.q = q + tok0 * q_dim + h * group * hd;
      a.pos0 = pos0 + tok0;
      a.kv_begin = s * split_len;
      a.kv_end = std::min(pos0 + tok0 + n_tok, (s + 1) * split_len);
      a.k = kv.k + static_cast<uint64_t>(h) * kv.k_head_bytes;
      a.v = kv.v + static_cast<uint64_t>(h) * kv.v_head_bytes;
      if (n_splits == 1) {
        a.out = out + tok0 * q_dim + h * group * hd;
        a.out_stride = q_dim;
        a.max_sum = nullptr;
      } else {
        const int64_t cell = (s * sh.n_head_kv + h) * a.n_rows;
        a.out = ws.partial_out() + cell * hd;
        a.out_stride = group * hd;
        a.max_sum = ws.partial_max_sum() + cell * 2;
      }
      ops.attention(a);
    }
  };
  const int64_t n_items = n_blocks * per_block;
  if (n_tokens * sh.n_head * kv_len * hd < kMinParallelWork) {
    body(0, n_items, 0);
  } else {
    pool.parallel_for_dynamic(n_items, 1, body);
  }
  if (n_splits > 1) {
    for (int64_t h = 0; h < sh.n_head_kv; ++h) {
      merge_splits(sh, n_splits, n_tokens * group, h, ws.partial_out(), ws.partial_max_sum(), out);
    }
  }
}

}  // namespace rf::cpu
