// Engine: many concurrent generation requests over one Model, continuously batched.
//
// A background thread runs engine steps. Each step packs the next token of every running sequence
// and chunks of waiting prompts (under a token budget) into one batch, runs one forward pass over
// it (weights are read once for all of them), then samples each sequence on the CPU and reports
// its token. KV lives in one paged pool shared by all sequences; full blocks of prompt tokens are
// kept, keyed by a hash chain of their tokens, so a later prompt with the same prefix skips them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cpu/ops_kernels.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace rf {

struct EngineParams {
  int n_threads = 1;
  int64_t n_ctx = 0;            // KV pool size in positions, shared by all sequences; 0 = fits free RAM (capped)
  int max_running = 16;         // sequences decoded together (llama-server's -np)
  int max_waiting = 64;         // queued requests beyond that; more are refused (HTTP 429)
  int64_t step_tokens = 512;    // token budget of one step (decode tokens + prompt chunks)
  cpu::KvFormat k_type = cpu::KvFormat::kF32;  // KV pool storage (q8_0: 3.8x more positions per byte)
  cpu::KvFormat v_type = cpu::KvFormat::kF32;
};

struct GenerationRequest {
  std::vector<int32_t> prompt;  // at least one token
  int64_t max_tokens = 16;      // <= 0: until EOS or the context ends
  SamplingParams sampling;
  int top_logprobs = -1;        // < 0: no log-probabilities; 0..20: chosen token's (+ that many alternatives)
  bool stop_at_eos = true;
};

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
};

struct GeneratedToken {
  int32_t token = 0;
  float logprob = 0;                 // when requested
  std::vector<TokenLogprob> top;     // when requested, best first
};

enum class FinishReason { kLength, kStop, kCancelled, kError };
const char* finish_reason_name(FinishReason reason);  // "length", "stop", "cancelled", "error"

struct GenerationResult {
  FinishReason reason = FinishReason::kLength;
  std::string error;                 // kError only
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt tokens reused from the prefix cache
  int64_t completion_tokens = 0;
};

// Called on the engine thread for each token, in order; return false to stop the request there
// (a stop string matched, or the client went away): it then finishes with kStop. Must be quick;
// of the Engine's functions it may call only cancel().
using TokenCallback = std::function<bool(const GeneratedToken&)>;
// Called once, on the engine thread, when the request ends for any reason.
using DoneCallback = std::function<void(const GenerationResult&)>;

struct EngineMetrics {
  int64_t requests_running = 0;
  int64_t requests_waiting = 0;
  int64_t requests_finished = 0;
  int64_t prompt_tokens = 0;          // evaluated (cache hits excluded)
  int64_t prompt_tokens_cached = 0;   // skipped thanks to the prefix cache
  int64_t generated_tokens = 0;
  double prompt_seconds = 0;          // step time attributed to prompt tokens
  double generate_seconds = 0;        // step time attributed to decode tokens
  int64_t steps = 0;
  double step_seconds = 0;            // total time in steps
  double busy_cpu_seconds = 0;        // CPU time of the engine's threads
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;         // referenced by a running sequence
  int64_t kv_blocks_cached = 0;       // unreferenced, kept for prefix reuse
  int64_t prefix_lookups = 0;         // requests that looked up the cache
  int64_t prefix_hits = 0;            // ... and found at least one block
  int64_t preemptions = 0;            // sequences sent back to the queue when the pool ran dry
};

struct SubmitResult {
  enum Status { kAccepted, kInvalid, kQueueFull } status = kAccepted;
  uint64_t id = 0;       // kAccepted
  std::string message;   // otherwise: what was wrong, for the client
};

class Engine {
 public:
  // Allocates the KV pool and starts the engine thread.
  static Result<std::unique_ptr<Engine>> create(const Model& model, const EngineParams& params);
  ~Engine();  // cancels everything still running (DoneCallback runs with kCancelled) and joins

  // Queues a request; when refused nothing is called back. Invalid: an empty or out-of-vocabulary
  // prompt, a prompt that leaves no room to generate in the model's context or the pool, bad
  // sampling parameters. QueueFull: max_waiting requests already wait.
  SubmitResult submit(GenerationRequest request, TokenCallback on_token, DoneCallback on_done);
  // Ends a request early (its DoneCallback runs with kCancelled); its KV blocks are freed at the
  // next step. Unknown or finished ids are ignored.
  void cancel(uint64_t id);

  EngineMetrics metrics() const;
  const Model& model() const;
  int64_t n_ctx() const;  // positions in the pool; the most one request can use is min(this, trained context)

  class Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rf
