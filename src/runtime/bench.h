// llama-bench-style throughput tests: prompt processing (pp) and token generation (tg).
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "model/model.h"
#include "model/session.h"
#include "threading/thread_pool.h"

namespace rf {

struct BenchTest {
  int64_t n_prompt = 0;  // pp test: tokens evaluated in batches from an empty context
  int64_t n_gen = 0;     // tg test: tokens evaluated one at a time from an empty context
};

struct BenchResult {
  BenchTest test;
  std::vector<double> seconds;  // one per repetition
  double avg_ts() const;        // mean tokens/s over repetitions
  double stddev_ts() const;     // sample standard deviation of tokens/s
  double avg_seconds() const;
  double stddev_seconds() const;
};

// Runs one warm-up and then `repetitions` timed runs of a test with random token ids (fixed seed),
// like llama-bench. Each run starts from an empty KV cache; `params` gives the batch size and KV
// cache formats (its n_ctx is replaced by the test's length).
Result<BenchResult> run_bench(const Model& model, ThreadPool& pool, const BenchTest& test, int repetitions,
                              SessionParams params);

// Bytes of weights a decode step reads (every matrix once, one embedding row) and the matrix
// multiply-add count per token (2 ops each): the numerators of the bandwidth and compute roofs.
uint64_t decode_bytes_per_token(const Model& model);
double ops_per_token(const Model& model);

}  // namespace rf
