// Sampling stages: each is one step over a Candidates view; a SamplerChain runs them in order.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sampling/candidates.h"
#include "sampling/rng.h"

namespace rf {

// A stage filters or rewrites candidates in apply(); terminal stages set Candidates::selected.
// Stages own all their scratch from construction, so apply() and accept() never allocate.
class SamplerStage {
 public:
  virtual ~SamplerStage() = default;
  virtual void apply(Candidates& c) = 0;
  virtual void accept(int32_t /*token*/) {}  // a token was appended to the context
  virtual void reset() {}                    // forget history, restart the RNG stream
};

// llama.cpp penalties over the last `last_n` accepted tokens: for each such token with count n,
// logit <= 0 ? logit *= repeat : logit /= repeat, then logit -= n * frequency + presence.
class PenaltyStage final : public SamplerStage {
 public:
  PenaltyStage(int last_n, float repeat, float frequency, float presence);
  void apply(Candidates& c) override;
  void accept(int32_t token) override;
  void reset() override;

 private:
  struct TokenCount {
    int32_t id;
    int32_t count;
  };
  size_t count_distinct();  // fills distinct_ from the ring, sorted by id
  void penalize(float& logit, int32_t count) const;

  const float repeat_, frequency_, presence_;
  const bool active_;
  std::vector<int32_t> ring_;  // last_n most recent tokens; the first min(accepted_, last_n) are valid
  size_t accepted_ = 0;
  std::vector<int32_t> sorted_;        // scratch, last_n
  std::vector<TokenCount> distinct_;  // scratch, last_n
};

// Keeps the k highest-ranked candidates (k <= 0: disabled), leaving them sorted.
class TopKStage final : public SamplerStage {
 public:
  explicit TopKStage(int k) : k_(k) {}
  void apply(Candidates& c) override;

 private:
  const int k_;
};

// Keeps the shortest ranked prefix whose probability mass reaches p (p >= 1: disabled), at least
// min_keep rows. Probabilities are the softmax of the current logits.
class TopPStage final : public SamplerStage {
 public:
  explicit TopPStage(float p, size_t min_keep = 1) : p_(p), min_keep_(min_keep) {}
  void apply(Candidates& c) override;

 private:
  static constexpr size_t kSortDirectlyBelow = 2048;
  static constexpr size_t kBuckets = 1024;
  static constexpr float kBucketSpan = 32.0f;  // nats below the top logit resolved by the buckets

  // Moves a superset of the top-p rows to the front (unordered); returns its length.
  size_t bring_mass_to_front(Candidates& c);

  const float p_;
  const size_t min_keep_;
  std::array<double, kBuckets> bucket_mass_{};
};

// Keeps candidates with prob >= p * max prob, i.e. logit >= max logit + log(p) (p <= 0: disabled).
// The top candidate always passes; order is preserved.
class MinPStage final : public SamplerStage {
 public:
  explicit MinPStage(float p) : p_(p) {}
  void apply(Candidates& c) override;

 private:
  const float p_;
};

// Divides logits by t; t <= 0 keeps only the top-ranked candidate (greedy, ties to the lowest id).
class TemperatureStage final : public SamplerStage {
 public:
  explicit TemperatureStage(float t) : t_(t) {}
  void apply(Candidates& c) override;

 private:
  const float t_;
};

// Terminal: selects the top-ranked candidate.
class GreedyStage final : public SamplerStage {
 public:
  void apply(Candidates& c) override;
};

// Terminal: draws from softmax(logits) with a seeded xoshiro256** stream (one uniform per draw).
class DistStage final : public SamplerStage {
 public:
  explicit DistStage(uint64_t seed) : seed_(seed), rng_(seed) {}
  void apply(Candidates& c) override;
  void reset() override { rng_ = Rng(seed_); }

 private:
  const uint64_t seed_;
  Rng rng_;
};

}  // namespace rf
