// Tests for each sampling stage against direct double-precision references on random logits.
#include "sampling/stages.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "sampling/rng.h"
#include "test_util.h"

namespace rf {
namespace {

using testing::CandidateRows;
using testing::random_logits;
using testing::ranked_ids;
using testing::softmax_ref;

TEST(Rng, XoshiroMatchesHandDerivedOutputs) {
  // From state {1,2,3,4}: out = rotl(s1 * 5, 7) * 9 = rotl(10, 7) * 9 = 1280 * 9 = 11520; after one
  // update s1 = 2 ^ (3 ^ 1) = 0, so the second output is 0. Later values from an independent Python
  // transcription of the reference algorithm.
  Rng rng(std::array<uint64_t, 4>{1, 2, 3, 4});
  EXPECT_EQ(rng.next(), 11520u);
  EXPECT_EQ(rng.next(), 0u);
  EXPECT_EQ(rng.next(), 0x5a007080u);
  EXPECT_EQ(rng.next(), 0x10e0000000009d80u);
}

TEST(Rng, SplitmixMatchesPublishedFirstOutputs) {
  uint64_t state = 0;
  EXPECT_EQ(splitmix64(&state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(&state), 0x6e789e6aa1b965f4ULL);
}

TEST(Rng, UniformIsInUnitIntervalWithMeanHalf) {
  Rng rng(42);
  double sum = 0.0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Mean of kN uniforms has sd sqrt(1/12/kN) ~ 0.0009; allow 5 sd.
  EXPECT_NEAR(sum / kN, 0.5, 5 * std::sqrt(1.0 / 12 / kN));
}

TEST(Candidates, SoftmaxMatchesDoubleReferenceAndHandlesInfinities) {
  const auto logits = random_logits(1013, 3, -8.0f, 5.0f);
  CandidateRows r(logits);
  softmax(r.c);
  const auto ref = softmax_ref(logits);
  for (size_t i = 0; i < logits.size(); ++i) EXPECT_NEAR(r.rows[i].prob, ref[i], 1e-6 * ref[i] + 1e-9);

  const float inf = std::numeric_limits<float>::infinity();
  CandidateRows some_inf({1.0f, inf, -inf, inf});
  softmax(some_inf.c);
  EXPECT_EQ(some_inf.rows[0].prob, 0.0f);
  EXPECT_EQ(some_inf.rows[1].prob, 0.5f);
  EXPECT_EQ(some_inf.rows[3].prob, 0.5f);
  CandidateRows all_neg_inf({-inf, -inf, -inf, -inf});
  softmax(all_neg_inf.c);
  for (const TokenData& t : all_neg_inf.rows) EXPECT_EQ(t.prob, 0.25f);
}

TEST(TopK, KeepsExactlyTheKHighestInRankOrder) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{997}}) {
    for (int levels : {0, 9}) {  // continuous, and heavily tied
      const auto logits = random_logits(n, 100 + n, -5.0f, 5.0f, levels);
      const auto ranked = ranked_ids(logits);
      for (int k : {1, 2, 7, 40, 996, 997, 5000}) {
        CandidateRows r(logits);
        TopKStage(k).apply(r.c);
        const size_t expect = std::min(static_cast<size_t>(k), n);
        ASSERT_EQ(r.c.size, expect) << "n=" << n << " k=" << k;
        EXPECT_TRUE(r.c.sorted);
        EXPECT_EQ(r.ids(), std::vector<int32_t>(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(expect)))
            << "n=" << n << " k=" << k << " levels=" << levels;
      }
    }
  }
}

TEST(TopK, NonPositiveKLeavesCandidatesUntouched) {
  const auto logits = random_logits(97, 5, -1.0f, 1.0f);
  for (int k : {0, -3}) {
    CandidateRows r(logits);
    TopKStage(k).apply(r.c);
    ASSERT_EQ(r.c.size, logits.size());
    for (size_t i = 0; i < logits.size(); ++i) EXPECT_EQ(r.rows[i].id, static_cast<int32_t>(i));
  }
}

// Smallest m >= 1 whose top-m mass (double) reaches p; *ambiguous when a prefix mass is within
// 1e-5 of p, where float and double rounding may legitimately disagree.
size_t top_p_ref(const std::vector<float>& logits, const std::vector<int32_t>& ranked, double p, bool* ambiguous) {
  const auto prob = softmax_ref(logits);
  double mass = 0.0;
  size_t m = 0;
  *ambiguous = false;
  while (m < ranked.size()) {
    mass += prob[ranked[m]];
    ++m;
    if (std::abs(mass - p) < 1e-5) *ambiguous = true;
    if (mass >= p) break;
  }
  return m;
}

TEST(TopP, KeepsTheMinimalRankedPrefixReachingP) {
  // 997 rows take the direct sort; 20011 rows take the bucketed selection, with logit spreads inside
  // and beyond its 32-nat bucket span, ties, and -inf rows.
  int checked = 0;
  for (size_t n : {size_t{997}, size_t{20011}}) {
    for (uint64_t seed = 0; seed < 12; ++seed) {
      const float spread = std::array<float, 4>{4.0f, 15.0f, 60.0f, 0.01f}[seed % 4];
      auto logits = random_logits(n, 200 + seed + n, -spread, spread, seed % 3 == 2 ? 50 : 0);
      if (seed % 5 == 4) {
        for (size_t i = 0; i < n; i += 7) logits[i] = -std::numeric_limits<float>::infinity();
      }
      const auto ranked = ranked_ids(logits);
      for (float p : {0.0f, 0.05f, 0.3f, 0.5f, 0.9f, 0.95f, 0.999f}) {
        bool ambiguous = false;
        const size_t m = top_p_ref(logits, ranked, p, &ambiguous);
        CandidateRows r(logits);
        TopPStage(p).apply(r.c);
        EXPECT_TRUE(r.c.sorted);
        if (ambiguous) {
          EXPECT_LE(std::abs(static_cast<double>(r.c.size) - static_cast<double>(m)), 1.0);
          continue;
        }
        ASSERT_EQ(r.c.size, m) << "n=" << n << " seed=" << seed << " p=" << p;
        EXPECT_EQ(r.ids(), std::vector<int32_t>(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(m)));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 120);
}

TEST(TopP, OneDisablesAndMinKeepIsHonoured) {
  for (size_t n : {size_t{101}, size_t{20011}}) {
    const auto logits = random_logits(n, 9, -20.0f, 20.0f);
    const auto ranked = ranked_ids(logits);
    CandidateRows all(logits);
    TopPStage(1.0f).apply(all.c);
    EXPECT_EQ(all.c.size, logits.size());
    for (size_t keep : {size_t{5}, size_t{97}, size_t{3000}}) {
      CandidateRows r(logits);
      TopPStage(0.0f, keep).apply(r.c);
      const size_t expect = std::min(keep, n);
      ASSERT_EQ(r.c.size, expect) << "n=" << n << " keep=" << keep;
      EXPECT_EQ(r.ids(), std::vector<int32_t>(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(expect)));
    }
  }
}

TEST(MinP, KeepsTokensAtLeastPTimesTheMaxProbabilityInOrder) {
  int checked = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const auto logits = random_logits(997, 300 + seed, -6.0f, 3.0f);
    const double max_logit = *std::max_element(logits.begin(), logits.end());
    for (float p : {0.001f, 0.05f, 0.3f, 0.9f, 1.0f}) {
      CandidateRows r(logits);
      MinPStage(p).apply(r.c);
      const auto kept = r.ids();
      EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end())) << "order must be preserved";
      const std::set<int32_t> kept_set(kept.begin(), kept.end());
      ASSERT_EQ(kept_set.size(), kept.size());
      for (size_t i = 0; i < logits.size(); ++i) {
        const double ratio = std::exp(logits[i] - max_logit);  // p_i / p_max
        if (std::abs(ratio - p) < 1e-5 * p) continue;          // on the threshold: either is right
        EXPECT_EQ(kept_set.count(static_cast<int32_t>(i)) == 1, ratio >= p)
            << "seed=" << seed << " p=" << p << " token=" << i << " ratio=" << ratio;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 40000);
}

TEST(MinP, ZeroDisables) {
  const auto logits = random_logits(31, 4, -30.0f, 3.0f);
  CandidateRows r(logits);
  MinPStage(0.0f).apply(r.c);
  EXPECT_EQ(r.c.size, logits.size());
}

TEST(Temperature, DividesLogitsAndNonPositiveKeepsTheLowestIdArgmax) {
  const auto logits = random_logits(513, 8, -4.0f, 4.0f);
  for (float t : {0.3f, 1.0f, 1.7f}) {
    CandidateRows r(logits);
    TemperatureStage(t).apply(r.c);
    ASSERT_EQ(r.c.size, logits.size());
    for (size_t i = 0; i < logits.size(); ++i) {
      EXPECT_NEAR(r.rows[i].logit, logits[i] / static_cast<double>(t), 1e-6 * std::abs(logits[i] / t));
    }
  }
  const auto tied = random_logits(513, 8, -4.0f, 4.0f, 5);
  const int32_t expect = ranked_ids(tied)[0];
  for (float t : {0.0f, -1.0f}) {
    CandidateRows r(tied);
    TemperatureStage(t).apply(r.c);
    ASSERT_EQ(r.c.size, 1u);
    EXPECT_EQ(r.c.data[0].id, expect);
    EXPECT_EQ(r.c.data[0].logit, *std::max_element(tied.begin(), tied.end()));
  }
}

TEST(Greedy, SelectsTheLowestIdAmongTiedMaxima) {
  const auto tied = random_logits(1001, 12, -2.0f, 2.0f, 4);
  CandidateRows r(tied);
  GreedyStage().apply(r.c);
  ASSERT_GE(r.c.selected, 0);
  EXPECT_EQ(r.c.data[r.c.selected].id, ranked_ids(tied)[0]);
}

// llama.cpp penalty arithmetic in double over the last `last_n` entries of `history`.
std::vector<double> penalised_ref(const std::vector<float>& logits, const std::vector<int32_t>& history,
                                  size_t last_n, double repeat, double frequency, double presence) {
  std::map<int32_t, int> count;
  const size_t start = history.size() > last_n ? history.size() - last_n : 0;
  for (size_t i = start; i < history.size(); ++i) ++count[history[i]];
  std::vector<double> out(logits.begin(), logits.end());
  for (const auto& [id, n] : count) {
    double& l = out[static_cast<size_t>(id)];
    l = l <= 0 ? l * repeat : l / repeat;
    l -= n * frequency + presence;
  }
  return out;
}

struct PenaltyCase {
  float repeat, frequency, presence;
};

TEST(Penalty, MatchesReferenceArithmeticOverTheLastNTokens) {
  const auto logits = random_logits(503, 21, -3.0f, 3.0f);
  Rng rng(77);
  for (const PenaltyCase& pc : {PenaltyCase{1.3f, 0.2f, 0.5f}, PenaltyCase{1.0f, 0.7f, 0.0f},
                                PenaltyCase{0.8f, 0.0f, 1.1f}}) {
    for (size_t history_len : {size_t{5}, size_t{16}, size_t{43}}) {  // shorter, equal, longer than last_n
      constexpr size_t kLastN = 16;
      PenaltyStage stage(kLastN, pc.repeat, pc.frequency, pc.presence);
      std::vector<int32_t> history;
      for (size_t i = 0; i < history_len; ++i) {
        const auto tok = static_cast<int32_t>(rng.next() % 23);  // small id set: many repeats
        history.push_back(tok);
        stage.accept(tok);
      }
      const auto ref = penalised_ref(logits, history, kLastN, pc.repeat, pc.frequency, pc.presence);
      CandidateRows r(logits);
      stage.apply(r.c);
      ASSERT_EQ(r.c.size, logits.size());
      for (size_t i = 0; i < logits.size(); ++i) {
        if (ref[i] == logits[i]) {
          EXPECT_EQ(r.rows[i].logit, logits[i]) << "token " << i << " is not in the window";
        } else {
          EXPECT_NEAR(r.rows[i].logit, ref[i], 1e-5 * (1 + std::abs(ref[i]))) << "token " << i;
        }
      }
      stage.reset();
      CandidateRows after_reset(logits);
      stage.apply(after_reset.c);
      for (size_t i = 0; i < logits.size(); ++i) EXPECT_EQ(after_reset.rows[i].logit, logits[i]);
    }
  }
}

TEST(Penalty, WorksOnReorderedCandidatesAfterTopK) {
  // Penalties placed after top-k see sorted, truncated rows: the id-indexed fast path must not apply.
  const auto logits = random_logits(211, 31, -3.0f, 3.0f);
  const auto ranked = ranked_ids(logits);
  const std::vector<int32_t> history = {ranked[0], ranked[3], ranked[3], ranked[100], 5, ranked[0], ranked[7]};
  PenaltyStage stage(64, 1.5f, 0.25f, 0.1f);
  for (int32_t t : history) stage.accept(t);
  const auto ref = penalised_ref(logits, history, 64, 1.5, 0.25, 0.1);
  CandidateRows r(logits);
  TopKStage(20).apply(r.c);
  stage.apply(r.c);
  ASSERT_EQ(r.c.size, 20u);
  EXPECT_FALSE(r.c.sorted);
  for (size_t i = 0; i < r.c.size; ++i) {
    const TokenData& row = r.c.data[i];
    EXPECT_EQ(row.id, ranked[i]);
    EXPECT_NEAR(row.logit, ref[static_cast<size_t>(row.id)], 1e-5 * (1 + std::abs(ref[static_cast<size_t>(row.id)])));
  }
}

TEST(Penalty, DisabledSettingsChangeNothing) {
  const auto logits = random_logits(64, 2, -3.0f, 3.0f);
  for (PenaltyStage stage : {PenaltyStage(0, 1.5f, 0.5f, 0.5f), PenaltyStage(64, 1.0f, 0.0f, 0.0f)}) {
    for (int32_t t : {1, 2, 2, 3}) stage.accept(t);
    CandidateRows r(logits);
    stage.apply(r.c);
    for (size_t i = 0; i < logits.size(); ++i) EXPECT_EQ(r.rows[i].logit, logits[i]);
  }
}

}  // namespace
}  // namespace rf
