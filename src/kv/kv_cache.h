// KvCache: per-layer keys and values of one sequence (f32 or q8_0), in the layouts attention reads.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/aligned_buffer.h"
#include "base/result.h"
#include "cpu/attention.h"

namespace rf {

// Cache storage type names as llama.cpp's --cache-type-k/-v spell them: "f32", "q8_0".
Result<cpu::KvFormat> parse_kv_type(std::string_view name);
std::string_view kv_type_name(cpu::KvFormat type);

// Layout (see cpu/ops_kernels.h for the panel and row formats): keys [layer][kv head][panel of 16
// positions], values [layer][kv head][position][row]. q8_0 stores 8.5 bits per number (3.8x less
// than f32) at one fp16 scale per 32 features; head_dim need not be a multiple of 32 (zero-padded).
// The serving layer will add fixed-size blocks and block tables; attention only needs the views.
class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, cpu::KvFormat k_type,
          cpu::KvFormat v_type);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_head_kv() const { return n_head_kv_; }
  int64_t head_dim() const { return head_dim_; }
  cpu::KvFormat k_type() const { return k_type_; }
  cpu::KvFormat v_type() const { return v_type_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Stores the keys and values of n tokens at positions pos .. pos + n - 1. Token t's key row is
  // k + t * stride and its value row v + t * stride: n_head_kv * head_dim floats, head after head.
  void store(int64_t layer, int64_t pos, int64_t n, const float* k, const float* v, int64_t stride);

  cpu::KvLayerView layer(int64_t layer) const;

  // The stored key or value of (layer, KV head, position) as head_dim floats (q8_0 dequantized).
  void load_k(int64_t layer, int64_t head, int64_t pos, float* out) const;
  void load_v(int64_t layer, int64_t head, int64_t pos, float* out) const;

 private:
  uint8_t* k_head(int64_t layer, int64_t head);
  const uint8_t* k_head(int64_t layer, int64_t head) const;
  uint8_t* v_row(int64_t layer, int64_t head, int64_t pos);
  const uint8_t* v_row(int64_t layer, int64_t head, int64_t pos) const;
  void store_key(uint8_t* panel, int64_t lane, const float* x);

  int64_t n_ctx_ = 0;
  int64_t n_head_kv_ = 0;
  int64_t head_dim_ = 0;
  int64_t n_blocks_ = 0;  // q8_0 blocks per head row
  cpu::KvFormat k_type_ = cpu::KvFormat::kF32;
  cpu::KvFormat v_type_ = cpu::KvFormat::kF32;
  uint64_t k_panel_bytes_ = 0;
  uint64_t k_head_bytes_ = 0;
  uint64_t v_row_bytes_ = 0;
  uint64_t v_head_bytes_ = 0;
  AlignedBuffer<uint8_t> k_;
  AlignedBuffer<uint8_t> v_;
};

}  // namespace rf
