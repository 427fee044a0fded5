// Forward: the decoder's forward pass over a packed batch of tokens from one or more sequences.
#pragma once

#include <cstdint>
#include <span>

#include "base/aligned_buffer.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "threading/thread_pool.h"

namespace rf {

// A run of consecutive batch tokens that belong to one sequence, at positions pos0 .. pos0 + n - 1.
// Their keys and values are written into the sequence's blocks, then they attend to positions
// 0 .. their own of that sequence.
struct BatchSegment {
  KvCache::BlockTable blocks;  // covers positions 0 .. pos0 + n - 1
  int64_t pos0 = 0;
  int64_t n = 0;
  bool want_logits = false;    // logits of the segment's last token
};

// Activations and scratch for batches of up to max_tokens tokens, allocated once; run() never
// allocates. Matrix products are shared by every token of the batch (weights are read once).
class Forward {
 public:
  Forward() = default;
  Forward(const Model& model, ThreadPool& pool, int64_t max_tokens, int64_t max_positions);

  int64_t max_tokens() const { return max_tokens_; }
  int64_t max_positions() const { return max_positions_; }

  // Evaluates tokens[0 .. n) laid out as `segments` (in order, covering all n). Logits go to
  // `logits`, one row of n_vocab per token when all_logits, else one per segment that wants them,
  // in segment order. Token ids and positions must be valid (callers check; RF_CHECK here).
  void run(const int32_t* tokens, std::span<const BatchSegment> segments, KvCache& kv, bool all_logits,
           float* logits);

 private:
  const Model* model_ = nullptr;
  ThreadPool* pool_ = nullptr;
  int64_t max_tokens_ = 0;
  int64_t max_positions_ = 0;

  AlignedBuffer<float> x_;        // (max_tokens, n_embd) residual stream
  AlignedBuffer<float> xb_;       // (max_tokens, max(n_embd, q_dim)) normed input / projection output
  AlignedBuffer<float> q_;        // (max_tokens, q_dim)
  AlignedBuffer<float> k_;        // (max_tokens, kv_dim)
  AlignedBuffer<float> v_;        // (max_tokens, kv_dim)
  AlignedBuffer<float> attn_;     // (max_tokens, q_dim) attention output
  AlignedBuffer<float> gate_;     // (max_tokens, n_ff)
  AlignedBuffer<float> up_;       // (max_tokens, n_ff)
  AlignedBuffer<uint8_t> act_;    // (max_tokens, max matmul cols) activations in the kernels' format
  cpu::AttentionWorkspace attn_ws_;
  AlignedBuffer<float> rope_;     // (max_positions, n_rot) cos/sin pairs per position
};

}  // namespace rf
