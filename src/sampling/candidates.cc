// Candidates helpers: ordering, top row, and an inf-tolerant softmax.
#include "sampling/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace rf {

void sort_candidates(Candidates& c) {
  if (c.sorted) return;
  std::sort(c.data, c.data + c.size, ranks_before);
  c.sorted = true;
}

size_t top_index(const Candidates& c) {
  RF_CHECK(c.size >= 1);
  if (c.sorted) return 0;
  size_t best = 0;
  for (size_t i = 1; i < c.size; ++i) {
    if (ranks_before(c.data[i], c.data[best])) best = i;
  }
  return best;
}

void softmax(Candidates& c) {
  RF_CHECK(c.size >= 1);
  const float max_logit = c.data[top_index(c)].logit;
  const bool degenerate = std::isinf(max_logit);  // all -inf, or some +inf: exp(l - max) would be NaN
  double sum = 0.0;
  for (TokenData& t : c.rows()) {
    t.prob = degenerate ? (t.logit == max_logit ? 1.0f : 0.0f) : std::exp(t.logit - max_logit);
    sum += t.prob;
  }
  const float inv = static_cast<float>(1.0 / sum);  // sum >= 1: the top row contributes exp(0)
  for (TokenData& t : c.rows()) t.prob *= inv;
}

}  // namespace rf
