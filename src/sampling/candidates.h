// Candidates: the (id, logit, prob) rows the sampling stages filter, reorder and finally select from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rf {

struct TokenData {
  int32_t id;
  float logit;
  float prob;  // scratch: valid only right after a stage that calls softmax()
};

// A view over a chain's preallocated scratch. Stages shrink `size`, permute or rewrite rows, and a
// terminal stage sets `selected`. Logits are never NaN here (the chain maps NaN to -inf on entry).
struct Candidates {
  TokenData* data = nullptr;
  size_t size = 0;
  bool sorted = false;    // rows are in ranks_before order
  int64_t selected = -1;  // row index chosen by a terminal stage; -1 until then

  std::span<TokenData> rows() const { return {data, size}; }
};

// Descending logit, ties broken by ascending id: a strict total order on NaN-free logits, so every
// stage (and greedy decoding) is deterministic under ties.
inline bool ranks_before(const TokenData& a, const TokenData& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Sorts all rows into ranks_before order (no-op when already sorted).
void sort_candidates(Candidates& c);

// Row index of the highest-ranked candidate (c.size >= 1).
size_t top_index(const Candidates& c);

// prob = softmax(logit) over the rows. Accepts +-inf logits: if some are +inf they share all the
// mass; if all are -inf the distribution is uniform.
void softmax(Candidates& c);

}  // namespace rf
