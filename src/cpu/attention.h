// Causal grouped-query attention over a KV cache: splits the work and runs the table's tiled kernel.
#pragma once

#include <cstdint>

#include "base/aligned_buffer.h"
#include "cpu/ops_kernels.h"
#include "threading/thread_pool.h"

namespace rf::cpu {

// One layer of a paged KV cache as one sequence sees it (layouts in ops_kernels.h): the
// sequence's positions [32 i, 32 i + 32) are in physical block blocks[i] (i < n_blocks); KV head
// h's keys of physical block b start at k + h * k_head_bytes + b * k_block_bytes, its value rows
// at v + h * v_head_bytes + b * v_block_bytes.
struct KvLayerView {
  KvFormat k_format = KvFormat::kF32;
  KvFormat v_format = KvFormat::kF32;
  const int32_t* blocks = nullptr;
  int64_t n_blocks = 0;
  const uint8_t* k = nullptr;
  uint64_t k_panel_bytes = 0;
  uint64_t k_block_bytes = 0;
  uint64_t k_head_bytes = 0;
  const uint8_t* v = nullptr;
  uint64_t v_row_bytes = 0;
  uint64_t v_block_bytes = 0;
  uint64_t v_head_bytes = 0;
};

struct AttentionShape {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;  // divides n_head
  int64_t head_dim = 0;
};

// Scratch for attention calls of up to max_tokens queries and n_ctx positions, allocated once:
// per-thread kernel buffers and the partial results of KV ranges split across threads.
class AttentionWorkspace {
 public:
  AttentionWorkspace() = default;
  AttentionWorkspace(const AttentionShape& shape, int n_threads, int64_t max_tokens, int64_t n_ctx);

  const AttentionShape& shape() const { return shape_; }
  int64_t tokens_per_block() const { return tokens_per_block_; }
  int64_t max_splits() const { return max_splits_; }
  AttentionScratch thread_scratch(int thread);
  float* partial_out() { return partial_out_.data(); }
  float* partial_max_sum() { return partial_max_sum_.data(); }

 private:
  AttentionShape shape_;
  int n_threads_ = 0;
  int64_t tokens_per_block_ = 1;  // query tokens per work item
  int64_t rows_ = 0;              // query rows per work item: tokens_per_block * group
  int64_t max_splits_ = 1;        // KV ranges one short batch may be split into
  uint64_t thread_floats_ = 0;
  AlignedBuffer<float> thread_buf_;       // n_threads * thread_floats_
  AlignedBuffer<float> partial_out_;      // [split][kv head][rows][head_dim]
  AlignedBuffer<float> partial_max_sum_;  // [split][kv head][rows][2]
};

// out[t][h * head_dim ..] = softmax(scale * q_t,h . K^T) V over positions 0 .. pos0 + t of the
// cache for t < n_tokens (q and out: n_tokens rows of n_head * head_dim floats). Positions
// pos0 .. pos0 + n_tokens - 1 must already be stored. Work items are (KV head, block of query
// tokens, range of positions), handed out dynamically; short batches over long contexts split the
// positions and merge the partial softmax sums.
void attention(ThreadPool& pool, const KvLayerView& kv, const float* q, int64_t n_tokens, int64_t pos0, float scale,
               float* out, AttentionWorkspace& ws);
// The same with a given level's kernel (tests sweep every ISA).
void attention(ThreadPool& pool, const KvLayerView& kv, const float* q, int64_t n_tokens, int64_t pos0, float scale,
               float* out, AttentionWorkspace& ws, const OpsKernels& ops);

}  // namespace rf::cpu
