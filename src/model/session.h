// Session: the mutable state of one sequence on a Model — KV cache, activations, logits.
#pragma once

#include <cstdint>
#include <span>

#include "base/aligned_buffer.h"
#include "base/result.h"
#include "kv/kv_cache.h"
#include "model/forward.h"
#include "model/model.h"
#include "threading/thread_pool.h"

namespace rf {

struct SessionParams {
  int64_t n_ctx = 0;          // context length; 0 = min(trained context, 4096)
  int64_t n_batch = 512;      // tokens per forward chunk during prefill
  bool logits_all = false;    // keep logits for every evaluated token (perplexity, logit dumps)
  cpu::KvFormat k_type = cpu::KvFormat::kF32;  // KV cache storage of keys and of values
  cpu::KvFormat v_type = cpu::KvFormat::kF32;
};

struct SessionTimings {
  double prompt_seconds = 0;  // time in eval() calls of more than one token
  int64_t prompt_tokens = 0;
  double decode_seconds = 0;  // time in single-token eval() calls
  int64_t decode_tokens = 0;
};

// Every buffer is allocated here, once; eval() never allocates.
class Session {
 public:
  static Result<Session> create(const Model& model, ThreadPool& pool, const SessionParams& params);

  // Appends tokens at positions n_past().. and runs the forward pass. Errors: a token id outside
  // the vocabulary, or more tokens than the context has room for.
  Status eval(std::span<const int32_t> tokens);

  // Logits (n_vocab) of the i-th token of the last eval(); without logits_all only the last token's.
  std::span<const float> logits(int64_t i) const;
  std::span<const float> last_logits() const;

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  void rewind(int64_t n_past);  // forget positions >= n_past
  const SessionTimings& timings() const { return timings_; }
  const Model& model() const { return *model_; }

 private:
  Session(const Model& model, ThreadPool& pool, const SessionParams& params, int64_t n_ctx);

  const Model* model_;
  SessionParams params_;
  int64_t n_past_ = 0;
  int64_t n_logits_ = 0;   // rows of logits_ valid after the last eval
  KvCache kv_;             // one sequence: the identity block table
  Forward forward_;
  SessionTimings timings_;
  AlignedBuffer<float> logits_;   // (n_ctx or 1, n_vocab)
};

}  // namespace rf
