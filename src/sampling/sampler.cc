// SamplingParams validation, SamplerChain plumbing and the default Sampler chain.
#include "sampling/sampler.h"

#include <cmath>
#include <limits>
#include <random>

#include "base/check.h"

namespace rf {
namespace {

constexpr int kMaxRepeatLastN = 1 << 24;  // bounds the penalty ring a request can make us allocate

}  // namespace

Status validate_sampling_params(const SamplingParams& p) {
  if (!std::isfinite(p.temperature)) return make_error("temperature must be finite, got %g", p.temperature);
  if (!(p.top_p >= 0.0f && p.top_p <= 1.0f)) return make_error("top_p must be in [0, 1], got %g", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) return make_error("min_p must be in [0, 1], got %g", p.min_p);
  if (!(std::isfinite(p.repeat_penalty) && p.repeat_penalty > 0.0f)) {
    return make_error("repeat_penalty must be finite and > 0, got %g", p.repeat_penalty);
  }
  if (p.repeat_last_n < 0 || p.repeat_last_n > kMaxRepeatLastN) {
    return make_error("repeat_last_n must be in [0, %d] (resolve -1 to the context length first), got %d",
                      kMaxRepeatLastN, p.repeat_last_n);
  }
  if (!std::isfinite(p.presence_penalty)) return make_error("presence_penalty must be finite, got %g", p.presence_penalty);
  if (!std::isfinite(p.frequency_penalty)) {
    return make_error("frequency_penalty must be finite, got %g", p.frequency_penalty);
  }
  return Status::ok_status();
}

uint64_t resolve_seed(uint64_t seed) {
  if (seed != kRandomSeed) return seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

SamplerChain::SamplerChain(int n_vocab) : scratch_(static_cast<size_t>(n_vocab)) { RF_CHECK(n_vocab >= 1); }

SamplerChain& SamplerChain::add(std::unique_ptr<SamplerStage> stage) {
  RF_CHECK(stage != nullptr);
  stages_.push_back(std::move(stage));
  return *this;
}

int32_t SamplerChain::sample(std::span<const float> logits) {
  RF_CHECK(logits.size() == scratch_.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    scratch_[i] = {static_cast<int32_t>(i), l == l ? l : -std::numeric_limits<float>::infinity(), 0.0f};  // NaN != NaN
  }
  Candidates c{scratch_.data(), scratch_.size(), false, -1};
  for (const auto& stage : stages_) {
    stage->apply(c);
    RF_CHECK(c.size >= 1);
    if (c.selected >= 0) break;
  }
  RF_CHECK(c.selected >= 0 && static_cast<size_t>(c.selected) < c.size);  // chain must end in a draw
  return c.data[c.selected].id;
}

void SamplerChain::accept(int32_t token) {
  RF_CHECK(token >= 0 && static_cast<size_t>(token) < scratch_.size());
  for (const auto& stage : stages_) stage->accept(token);
}

void SamplerChain::reset() {
  for (const auto& stage : stages_) stage->reset();
}

Sampler::Sampler(const SamplingParams& params, int n_vocab)
    : params_(params), seed_(resolve_seed(params.seed)), chain_(n_vocab) {
  RF_CHECK(validate_sampling_params(params).ok());
  // A stage disabled by its parameter returns at once, so the stages are added unconditionally.
  const SamplingParams& p = params_;
  chain_.emplace<PenaltyStage>(p.repeat_last_n, p.repeat_penalty, p.frequency_penalty, p.presence_penalty);
  if (p.temperature <= 0.0f) {
    chain_.emplace<GreedyStage>();
    return;
  }
  chain_.emplace<TopKStage>(p.top_k);
  chain_.emplace<TopPStage>(p.top_p);
  chain_.emplace<MinPStage>(p.min_p);
  chain_.emplace<TemperatureStage>(p.temperature);
  chain_.emplace<DistStage>(seed_);
}

}  // namespace rf
