// Tests for Sampler and SamplerChain: greedy, reproducibility, empirical distributions, robustness.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "test_util.h"

namespace rf {
namespace {

using testing::random_logits;
using testing::ranked_ids;
using testing::softmax_ref;

SamplingParams unfiltered(float temperature, uint64_t seed) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

// Upper quantile of chi-square(df) at the standard-normal z (Wilson-Hilferty approximation).
double chi_square_critical(double df, double z) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Draws n tokens and checks the counts against `expected` (probabilities; zero means never drawn):
// chi-square below its z = 5 quantile (false-alarm rate ~3e-7), and every bin within 5 sd.
void expect_frequencies_match(Sampler& sampler, const std::vector<float>& logits, const std::vector<double>& expected,
                              int n) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(sampler.sample(logits))];
  double chi2 = 0.0;
  int bins = 0;
  for (size_t t = 0; t < logits.size(); ++t) {
    const double p = expected[t];
    if (p == 0.0) {
      EXPECT_EQ(counts[t], 0) << "token " << t << " is outside the filtered set";
      continue;
    }
    const double mean = n * p;
    ASSERT_GT(mean, 5.0) << "test setup: expected count too small for chi-square";
    chi2 += (counts[t] - mean) * (counts[t] - mean) / mean;
    ++bins;
    EXPECT_LE(std::abs(counts[t] - mean), 5.0 * std::sqrt(mean * (1 - p)) + 1.0) << "token " << t;
  }
  ASSERT_GE(bins, 2);
  EXPECT_LT(chi2, chi_square_critical(bins - 1, 5.0)) << "bins=" << bins;
}

TEST(Sampler, GreedyIsArgmaxWithTiesToLowestId) {
  for (int n_vocab : {1, 2, 1001, 32003}) {
    for (int levels : {0, 6}) {
      SamplingParams p = unfiltered(0.0f, 1);
      Sampler sampler(p, n_vocab);
      for (uint64_t seed = 0; seed < 5; ++seed) {
        const auto logits = random_logits(static_cast<size_t>(n_vocab), seed * 31 + static_cast<uint64_t>(n_vocab),
                                          -10.0f, 10.0f, levels);
        EXPECT_EQ(sampler.sample(logits), ranked_ids(logits)[0]) << "n_vocab=" << n_vocab;
      }
    }
  }
}

TEST(Sampler, GreedyWithRepeatPenaltyMovesOffTheRepeatedToken) {
  const auto logits = random_logits(257, 5, 0.5f, 4.0f);  // all positive: the penalty divides
  SamplingParams p = unfiltered(0.0f, 1);
  p.repeat_penalty = 1.5f;
  Sampler sampler(p, 257);
  const auto ranked = ranked_ids(logits);
  const int32_t first = sampler.sample(logits);
  EXPECT_EQ(first, ranked[0]);
  sampler.accept(first);
  // Reference: the first token's logit divided by 1.5 competes with the runner-up.
  const bool runner_up_wins = logits[ranked[1]] > logits[ranked[0]] / 1.5;
  ASSERT_TRUE(runner_up_wins) << "test setup: pick logits where the penalty changes the argmax";
  EXPECT_EQ(sampler.sample(logits), ranked[1]);
  sampler.reset();
  EXPECT_EQ(sampler.sample(logits), ranked[0]);
}

TEST(Sampler, SameSeedReproducesDifferentSeedsDiffer) {
  SamplingParams p;  // defaults: the full chain with top-k 40, top-p, min-p, temperature 0.8
  p.seed = 1234;
  p.repeat_penalty = 1.1f;
  Sampler a(p, 3001), b(p, 3001);
  p.seed = 1235;
  Sampler c(p, 3001);
  std::vector<int32_t> ta, tb, tc;
  for (uint64_t step = 0; step < 200; ++step) {
    const auto logits = random_logits(3001, 1000 + step, -3.0f, 3.0f);
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
    tc.push_back(c.sample(logits));
    a.accept(ta.back());
    b.accept(tb.back());
    c.accept(tc.back());
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);

  a.reset();  // restarts history and random stream: replays the same sequence
  for (uint64_t step = 0; step < 200; ++step) {
    const auto logits = random_logits(3001, 1000 + step, -3.0f, 3.0f);
    const int32_t t = a.sample(logits);
    a.accept(t);
    ASSERT_EQ(t, ta[step]) << "step " << step;
  }
}

TEST(Sampler, RandomSeedIsResolvedAndVaries) {
  Sampler a(unfiltered(1.0f, kRandomSeed), 10), b(unfiltered(1.0f, kRandomSeed), 10);
  EXPECT_NE(a.seed(), kRandomSeed);
  EXPECT_NE(a.seed(), b.seed());
  EXPECT_EQ(Sampler(unfiltered(1.0f, 99), 10).seed(), 99u);
}

TEST(Sampler, FrequenciesMatchSoftmaxOverTemperature) {
  const auto logits = random_logits(37, 11, -2.0f, 2.0f);
  for (float t : {0.7f, 1.0f, 1.6f}) {
    Sampler sampler(unfiltered(t, 2024), 37);
    expect_frequencies_match(sampler, logits, softmax_ref(logits, t), 200000);
  }
}

// The default chain's target distribution, derived step by step in double.
std::vector<double> filtered_ref(const std::vector<float>& logits, const SamplingParams& p, bool* clear_margins,
                                 std::vector<size_t>* sizes) {
  auto ranked = ranked_ids(logits);
  ranked.resize(std::min(ranked.size(), static_cast<size_t>(p.top_k)));
  sizes->push_back(ranked.size());
  std::vector<float> top(ranked.size());
  for (size_t i = 0; i < ranked.size(); ++i) top[i] = logits[ranked[i]];
  const auto prob = softmax_ref(top);  // top-p sees the logits before temperature
  double mass = 0.0;
  size_t m = 0;
  *clear_margins = true;
  while (m < top.size()) {
    mass += prob[m++];
    if (std::abs(mass - p.top_p) < 1e-3) *clear_margins = false;
    if (mass >= p.top_p) break;
  }
  sizes->push_back(m);
  std::vector<size_t> kept;
  for (size_t i = 0; i < m; ++i) {
    const double ratio = std::exp(static_cast<double>(top[i]) - top[0]);
    if (std::abs(ratio - p.min_p) < 1e-3) *clear_margins = false;
    if (ratio >= p.min_p) kept.push_back(i);
  }
  sizes->push_back(kept.size());
  std::vector<double> expected(logits.size(), 0.0);
  double sum = 0.0;
  for (size_t i : kept) sum += expected[ranked[i]] = std::exp((top[i] - top[0]) / static_cast<double>(p.temperature));
  for (double& e : expected) e /= sum;
  return expected;
}

TEST(Sampler, DefaultChainFrequenciesMatchFilteredSoftmax) {
  SamplingParams p;
  p.top_k = 12;
  p.top_p = 0.8f;
  p.min_p = 0.2f;
  p.temperature = 1.3f;
  p.seed = 7;
  // Pick the first logits seed where every filter removes something and no token sits within 1e-3
  // of a threshold (so float vs double rounding cannot flip membership).
  for (uint64_t seed = 0;; ++seed) {
    ASSERT_LT(seed, 1000u) << "no suitable logits found";
    const auto logits = random_logits(61, seed, -3.0f, 3.0f);
    bool clear = false;
    std::vector<size_t> sizes;
    const auto expected = filtered_ref(logits, p, &clear, &sizes);
    if (!clear || !(61 > sizes[0] && sizes[0] > sizes[1] && sizes[1] > sizes[2] && sizes[2] >= 3)) continue;
    Sampler sampler(p, 61);
    expect_frequencies_match(sampler, logits, expected, 200000);
    return;
  }
}

TEST(Sampler, NanAndInfiniteLogitsAreHandled) {
  const float inf = std::numeric_limits<float>::infinity();
  auto logits = random_logits(50, 3, -1.0f, 1.0f);
  logits[4] = std::numeric_limits<float>::quiet_NaN();
  logits[9] = inf;
  logits[30] = -inf;
  Sampler greedy(unfiltered(0.0f, 1), 50);
  EXPECT_EQ(greedy.sample(logits), 9);
  SamplingParams p;
  p.seed = 3;
  Sampler dist(p, 50);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(dist.sample(logits), 9);

  std::vector<float> all_nan(50, std::numeric_limits<float>::quiet_NaN());
  Sampler unf(unfiltered(1.0f, 5), 50);
  for (int i = 0; i < 100; ++i) {
    const int32_t t = unf.sample(all_nan);
    EXPECT_TRUE(t >= 0 && t < 50);
  }
}

TEST(SamplerChain, CustomOrderRestrictsDrawsToTheFilteredSet) {
  // temperature -> top-k 3 -> draw: only the three highest logits are ever drawn, in softmax(l/T) ratio.
  const auto logits = random_logits(101, 17, -1.0f, 1.0f);
  SamplerChain chain(101);
  chain.emplace<TemperatureStage>(0.5f);
  chain.emplace<TopKStage>(3);
  chain.emplace<DistStage>(uint64_t{42});
  const auto ranked = ranked_ids(logits);
  std::vector<int> counts(101, 0);
  constexpr int kN = 30000;
  for (int i = 0; i < kN; ++i) ++counts[static_cast<size_t>(chain.sample(logits))];
  double z = 0.0;
  for (int k = 0; k < 3; ++k) z += std::exp((logits[ranked[k]] - logits[ranked[0]]) / 0.5);
  int in_set = 0;
  for (int k = 0; k < 3; ++k) {
    const double p = std::exp((logits[ranked[k]] - logits[ranked[0]]) / 0.5) / z;
    in_set += counts[static_cast<size_t>(ranked[k])];
    EXPECT_NEAR(counts[static_cast<size_t>(ranked[k])], kN * p, 5 * std::sqrt(kN * p * (1 - p)) + 1);
  }
  EXPECT_EQ(in_set, kN);
}

TEST(SamplerChainDeathTest, ChainWithoutTerminalStageIsABug) {
  SamplerChain chain(8);
  chain.emplace<TopKStage>(2);
  const auto logits = random_logits(8, 1, -1.0f, 1.0f);
  EXPECT_DEATH(chain.sample(logits), "selected");
}

TEST(SamplingParams, ValidationNamesTheBadField) {
  EXPECT_TRUE(validate_sampling_params(SamplingParams{}).ok());
  struct Bad {
    const char* field;
    SamplingParams params;
  };
  std::vector<Bad> cases;
  auto with = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    return p;
  };
  cases.push_back({"temperature", with([](SamplingParams& p) { p.temperature = std::nanf(""); })});
  cases.push_back({"top_p", with([](SamplingParams& p) { p.top_p = 1.5f; })});
  cases.push_back({"min_p", with([](SamplingParams& p) { p.min_p = -0.1f; })});
  cases.push_back({"repeat_penalty", with([](SamplingParams& p) { p.repeat_penalty = 0.0f; })});
  cases.push_back({"repeat_last_n", with([](SamplingParams& p) { p.repeat_last_n = -1; })});
  cases.push_back({"presence_penalty", with([](SamplingParams& p) { p.presence_penalty = INFINITY; })});
  cases.push_back({"frequency_penalty", with([](SamplingParams& p) { p.frequency_penalty = -INFINITY; })});
  for (const Bad& b : cases) {
    const Status s = validate_sampling_params(b.params);
    ASSERT_FALSE(s.ok()) << b.field;
    EXPECT_NE(s.error().message.find(b.field), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace rf
