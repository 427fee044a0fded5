// Shared helpers for the sampling tests: seeded random logits and double-precision references.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sampling/candidates.h"
#include "sampling/rng.h"

namespace rf::testing {

// Uniform logits in [lo, hi); `levels` > 0 quantises them to that many values to force ties.
inline std::vector<float> random_logits(size_t n, uint64_t seed, float lo, float hi, int levels = 0) {
  Rng rng(seed);
  std::vector<float> out(n);
  for (float& x : out) {
    double u = rng.uniform();
    if (levels > 0) u = std::floor(u * levels) / levels;
    x = static_cast<float>(lo + (hi - lo) * u);
  }
  return out;
}

// Owns rows for a Candidates view in vocabulary order (row i = token i).
struct CandidateRows {
  explicit CandidateRows(const std::vector<float>& logits) : rows(logits.size()) {
    for (size_t i = 0; i < logits.size(); ++i) rows[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
    c = {rows.data(), rows.size(), false, -1};
  }
  std::vector<int32_t> ids() const {
    std::vector<int32_t> out;
    for (size_t i = 0; i < c.size; ++i) out.push_back(c.data[i].id);
    return out;
  }
  std::vector<TokenData> rows;
  Candidates c;
};

// Token ids ranked by descending logit, ties by ascending id.
inline std::vector<int32_t> ranked_ids(const std::vector<float>& logits) {
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  return ids;
}

// softmax(logits / t) in double.
inline std::vector<double> softmax_ref(const std::vector<float>& logits, double t = 1.0) {
  const double m = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp((logits[i] - m) / t);
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace rf::testing
