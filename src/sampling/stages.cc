// Sampling stage implementations (llama.cpp semantics, deterministic tie-breaking, no allocation).
#include "sampling/stages.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace rf {

PenaltyStage::PenaltyStage(int last_n, float repeat, float frequency, float presence)
    : repeat_(repeat),
      frequency_(frequency),
      presence_(presence),
      active_(last_n > 0 && (repeat != 1.0f || frequency != 0.0f || presence != 0.0f)),
      ring_(active_ ? static_cast<size_t>(last_n) : 0),
      sorted_(ring_.size()),
      distinct_(ring_.size()) {
  RF_CHECK(last_n >= 0);
}

void PenaltyStage::accept(int32_t token) {
  RF_CHECK(token >= 0);
  if (!active_) return;
  ring_[accepted_ % ring_.size()] = token;
  ++accepted_;
}

void PenaltyStage::reset() { accepted_ = 0; }

size_t PenaltyStage::count_distinct() {
  const size_t n = std::min(accepted_, ring_.size());
  std::copy(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n), sorted_.begin());
  std::sort(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(n));
  size_t n_distinct = 0;
  for (size_t i = 0; i < n; ++i) {
    if (n_distinct > 0 && distinct_[n_distinct - 1].id == sorted_[i]) {
      ++distinct_[n_distinct - 1].count;
    } else {
      distinct_[n_distinct++] = {sorted_[i], 1};
    }
  }
  return n_distinct;
}

void PenaltyStage::penalize(float& logit, int32_t count) const {
  if (logit <= 0.0f) {
    logit *= repeat_;
  } else {
    logit /= repeat_;
  }
  logit -= static_cast<float>(count) * frequency_ + presence_;
}

void PenaltyStage::apply(Candidates& c) {
  if (!active_ || accepted_ == 0) return;
  const size_t n_distinct = count_distinct();
  const auto distinct = std::span<const TokenCount>(distinct_.data(), n_distinct);
  // Fast path: rows still in vocabulary order (penalties first, as in the default chain), so a
  // token's row is found by its id in O(1) per penalised token.
  const bool indexed_by_id = std::all_of(distinct.begin(), distinct.end(), [&](const TokenCount& t) {
    return static_cast<size_t>(t.id) < c.size && c.data[t.id].id == t.id;
  });
  if (indexed_by_id) {
    for (const TokenCount& t : distinct) penalize(c.data[t.id].logit, t.count);
  } else {
    for (TokenData& row : c.rows()) {
      auto it = std::lower_bound(distinct.begin(), distinct.end(), row.id,
                                 [](const TokenCount& t, int32_t id) { return t.id < id; });
      if (it != distinct.end() && it->id == row.id) penalize(row.logit, it->count);
    }
  }
  c.sorted = false;
}

void TopKStage::apply(Candidates& c) {
  if (k_ <= 0) return;
  const size_t k = std::min(static_cast<size_t>(k_), c.size);
  if (!c.sorted) {
    if (k == c.size) {
      std::sort(c.data, c.data + c.size, ranks_before);
    } else {
      std::partial_sort(c.data, c.data + k, c.data + c.size, ranks_before);
    }
  }
  c.size = k;
  c.sorted = true;
}

size_t TopPStage::bring_mass_to_front(Candidates& c) {
  // Histogram the probability mass by logit into buckets counted down from the top logit (within
  // kBucketSpan nats; everything lower shares the last bucket), find the first buckets holding p,
  // and move their rows (plus one bucket of slack for summation-order rounding) to the front.
  float hi = c.data[0].logit, lo = c.data[0].logit;
  for (const TokenData& row : c.rows()) {
    hi = std::max(hi, row.logit);
    lo = std::min(lo, row.logit);
  }
  const float span = std::min(hi - lo, kBucketSpan);
  if (!std::isfinite(hi) || !(span > 0.0f)) return c.size;
  const float scale = static_cast<float>(kBuckets) / span;
  auto bucket_of = [&](float logit) {
    const float d = (hi - logit) * scale;  // +inf for -inf logits: the comparison sends them last
    return d < static_cast<float>(kBuckets - 1) ? static_cast<size_t>(d) : kBuckets - 1;
  };
  bucket_mass_.fill(0.0);
  for (const TokenData& row : c.rows()) bucket_mass_[bucket_of(row.logit)] += row.prob;
  size_t last = 0;
  for (double mass = bucket_mass_[0]; mass < p_ && last + 1 < kBuckets;) mass += bucket_mass_[++last];
  last = std::min(last + 1, kBuckets - 1);
  TokenData* end = std::partition(c.data, c.data + c.size, [&](const TokenData& row) { return bucket_of(row.logit) <= last; });
  return static_cast<size_t>(end - c.data);
}

void TopPStage::apply(Candidates& c) {
  if (p_ >= 1.0f) return;
  softmax(c);
  // Sorting a whole vocabulary costs milliseconds; the mass p usually sits in a short prefix.
  size_t front = c.size;
  if (!c.sorted && c.size > kSortDirectlyBelow) front = bring_mass_to_front(c);
  std::sort(c.data, c.data + front, ranks_before);
  double mass = 0.0;
  for (size_t i = 0; i < front; ++i) {
    mass += c.data[i].prob;
    if (mass >= p_ && i + 1 >= min_keep_) {
      c.size = i + 1;
      c.sorted = true;
      return;
    }
  }
  // Not reached inside the front: it is every row, or min_keep wants more rows than it holds, or an
  // empty slack bucket left the (order-dependent) double sum a rounding error short of p. In each
  // case the front is the answer, extended to min_keep from the ranked rest.
  std::sort(c.data + front, c.data + c.size, ranks_before);
  c.size = std::max(front, std::min(min_keep_, c.size));
  c.sorted = true;
}

void MinPStage::apply(Candidates& c) {
  if (p_ <= 0.0f) return;
  const float threshold = c.data[top_index(c)].logit + std::log(p_);  // log(p) <= 0: the top passes
  size_t kept = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (c.data[i].logit >= threshold) c.data[kept++] = c.data[i];
  }
  c.size = kept;
}

void TemperatureStage::apply(Candidates& c) {
  if (t_ <= 0.0f) {
    c.data[0] = c.data[top_index(c)];
    c.size = 1;
    c.sorted = true;
    return;
  }
  if (t_ == 1.0f) return;
  for (TokenData& row : c.rows()) row.logit /= t_;  // monotonic: order (and `sorted`) is kept
}

void GreedyStage::apply(Candidates& c) { c.selected = static_cast<int64_t>(top_index(c)); }

void DistStage::apply(Candidates& c) {
  softmax(c);
  double total = 0.0;
  for (const TokenData& row : c.rows()) total += row.prob;
  const double target = rng_.uniform() * total;
  double mass = 0.0;
  size_t last_nonzero = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (c.data[i].prob <= 0.0f) continue;
    mass += c.data[i].prob;
    last_nonzero = i;
    if (mass > target) {
      c.selected = static_cast<int64_t>(i);
      return;
    }
  }
  c.selected = static_cast<int64_t>(last_nonzero);  // rounding left target at the very end of the mass
}

}  // namespace rf
