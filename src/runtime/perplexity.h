// Perplexity by llama.cpp's method, so numbers compare across engines.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/result.h"
#include "model/model.h"
#include "model/session.h"
#include "threading/thread_pool.h"

namespace rf {

struct PerplexityResult {
  double perplexity = 0;
  int64_t n_chunks = 0;
  int64_t scored_tokens = 0;
};

// Cuts `tokens` into chunks of n_ctx (the first token of each replaced by BOS), evaluates each
// chunk from an empty context and scores only its second half, where every prediction has at
// least n_ctx/2 tokens of history. `params` gives n_ctx (the chunk size), batch and KV cache
// formats; logits_all is implied. `on_chunk(done, total, running_ppl)` reports progress.
Result<PerplexityResult> compute_perplexity(
    const Model& model, ThreadPool& pool, std::span<const int32_t> tokens, SessionParams params,
    const std::function<void(int64_t, int64_t, double)>& on_chunk = {});

}  // namespace rf
