// Sampler: llama.cpp-style parameters, a composable SamplerChain, and the default chain built from them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "base/result.h"
#include "sampling/stages.h"

namespace rf {

inline constexpr uint64_t kRandomSeed = 0xFFFFFFFF;  // llama.cpp's LLAMA_DEFAULT_SEED: pick one at random

// Defaults and meaning follow llama.cpp: top_k <= 0, top_p >= 1, min_p <= 0, repeat_penalty == 1,
// zero frequency/presence and repeat_last_n == 0 each disable their stage; temperature <= 0 is greedy.
struct SamplingParams {
  float temperature = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int repeat_last_n = 64;  // llama.cpp's -1 (whole context) must be resolved by the caller
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = kRandomSeed;
};

// Checks values a user can supply (CLI, server request); the Sampler constructor requires them valid.
Status validate_sampling_params(const SamplingParams& params);

// kRandomSeed becomes a fresh seed from std::random_device; any other seed is returned unchanged.
uint64_t resolve_seed(uint64_t seed);

// Stages run in insertion order over candidates initialised to the full vocabulary (row i = token i);
// the last stage to run must select (GreedyStage or DistStage). All scratch is allocated here and in
// the stages' constructors: sample() and accept() never allocate.
class SamplerChain {
 public:
  explicit SamplerChain(int n_vocab);

  SamplerChain& add(std::unique_ptr<SamplerStage> stage);
  template <class Stage, class... Args>
  Stage& emplace(Args&&... args) {
    auto stage = std::make_unique<Stage>(std::forward<Args>(args)...);
    Stage& ref = *stage;
    add(std::move(stage));
    return ref;
  }

  // logits.size() == n_vocab; NaN logits are treated as -inf. Returns the selected token id.
  int32_t sample(std::span<const float> logits);
  void accept(int32_t token);  // 0 <= token < n_vocab
  void reset();

  int n_vocab() const { return static_cast<int>(scratch_.size()); }

 private:
  std::vector<std::unique_ptr<SamplerStage>> stages_;
  std::vector<TokenData> scratch_;  // n_vocab rows
};

// The default chain: penalties -> top-k -> top-p -> min-p -> temperature -> draw (disabled stages
// return at once); temperature <= 0 is penalties -> greedy (the filters cannot change the argmax).
// sample() does not record the token: call accept() for every token appended to the context
// (prompt tokens too, if they should count towards the penalties).
class Sampler {
 public:
  Sampler(const SamplingParams& params, int n_vocab);

  int32_t sample(std::span<const float> logits) { return chain_.sample(logits); }
  void accept(int32_t token) { chain_.accept(token); }
  // Clears the penalty history and restarts the random stream from seed(): after reset() the
  // sampler reproduces its outputs from construction.
  void reset() { chain_.reset(); }

  uint64_t seed() const { return seed_; }  // the seed in use (resolved if kRandomSeed was asked for)
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  uint64_t seed_;
  SamplerChain chain_;
};

}  // namespace rf
