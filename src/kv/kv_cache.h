// KvCache: per-layer key and value rows for every position of one sequence (f32, contiguous).
#pragma once

#include <cstdint>

#include "base/aligned_buffer.h"
#include "base/check.h"

namespace rf {

// Layout: k_[layer][pos][kv_dim] and the same for v_. The serving layer will replace this with
// fixed-size blocks and block tables; the forward pass only needs row addresses.
class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim)
      : n_ctx_(n_ctx), kv_dim_(kv_dim),
        k_(static_cast<size_t>(n_layer * n_ctx * kv_dim)),
        v_(static_cast<size_t>(n_layer * n_ctx * kv_dim)) {}

  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return kv_dim_; }
  size_t bytes() const { return 2 * k_.size() * sizeof(float); }

  float* k(int64_t layer, int64_t pos) { return k_.data() + offset(layer, pos); }
  float* v(int64_t layer, int64_t pos) { return v_.data() + offset(layer, pos); }
  const float* k(int64_t layer, int64_t pos) const { return k_.data() + offset(layer, pos); }
  const float* v(int64_t layer, int64_t pos) const { return v_.data() + offset(layer, pos); }

 private:
  int64_t offset(int64_t layer, int64_t pos) const {
    RF_CHECK(pos >= 0 && pos < n_ctx_);
    return (layer * n_ctx_ + pos) * kv_dim_;
  }

  int64_t n_ctx_ = 0;
  int64_t kv_dim_ = 0;
  AlignedBuffer<float> k_;
  AlignedBuffer<float> v_;
};

}  // namespace rf
