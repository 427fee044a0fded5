// KvCache: per-layer keys and values of one sequence (f32 or q8_0), in the layouts attention reads.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/result.h"
#include "cpu/attention.h"

namespace rf {

// Cache storage type names as llama.cpp's --cache-type-k/-v spell them: "f32", "q8_0".
Result<cpu::KvFormat> parse_kv_type(std::string_view name);
std::string_view kv_type_name(cpu::KvFormat type);

// A pool of blocks of kBlockPositions positions, per layer and KV head. A sequence owns a block
// table: its positions [32 i, 32 i + 32) live in physical block table[i]. Layout (see
// cpu/ops_kernels.h for the panel and row formats): keys [layer][kv head][block][2 panels of 16
// positions], values [layer][kv head][block][32 position rows]. q8_0 stores 8.5 bits per number
// (3.8x less than f32) at one fp16 scale per 32 features; head_dim need not be a multiple of 32
// (zero-padded). One sequence alone uses the identity table (the overloads without a table).
class KvCache {
 public:
  static constexpr int64_t kBlockPositions = cpu::kKvStep;
  using BlockTable = std::span<const int32_t>;

  KvCache() = default;
  // Enough blocks for n_positions positions.
  KvCache(int64_t n_layer, int64_t n_positions, int64_t n_head_kv, int64_t head_dim, cpu::KvFormat k_type,
          cpu::KvFormat v_type);

  int64_t n_ctx() const { return n_ctx_; }  // n_positions as constructed
  int64_t n_blocks() const { return n_blocks_; }
  int64_t n_head_kv() const { return n_head_kv_; }
  int64_t head_dim() const { return head_dim_; }
  cpu::KvFormat k_type() const { return k_type_; }
  cpu::KvFormat v_type() const { return v_type_; }
  size_t bytes() const { return k_.size() + v_.size(); }
  // Bytes one block takes over all layers and heads (keys and values).
  uint64_t block_bytes() const;

  // Stores the keys and values of n tokens at positions pos .. pos + n - 1 of the sequence whose
  // blocks are `table` (covering them). Token t's key row is k + t * stride and its value row
  // v + t * stride: n_head_kv * head_dim floats, head after head.
  void store(int64_t layer, BlockTable table, int64_t pos, int64_t n, const float* k, const float* v,
             int64_t stride);
  void store(int64_t layer, int64_t pos, int64_t n, const float* k, const float* v, int64_t stride) {
    store(layer, identity_table(), pos, n, k, v, stride);
  }

  // What attention reads for one sequence; the table must outlive the view.
  cpu::KvLayerView layer(int64_t layer, BlockTable table) const;
  cpu::KvLayerView layer(int64_t layer) const { return this->layer(layer, identity_table()); }

  // The stored key or value of (layer, KV head, position) as head_dim floats (q8_0 dequantized).
  void load_k(int64_t layer, int64_t head, BlockTable table, int64_t pos, float* out) const;
  void load_v(int64_t layer, int64_t head, BlockTable table, int64_t pos, float* out) const;
  void load_k(int64_t layer, int64_t head, int64_t pos, float* out) const { load_k(layer, head, identity_table(), pos, out); }
  void load_v(int64_t layer, int64_t head, int64_t pos, float* out) const { load_v(layer, head, identity_table(), pos, out); }

  // Blocks 0, 1, ..., n_blocks - 1: the table of one sequence that uses the whole cache.
  BlockTable identity_table() const { return identity_; }

 private:
  const uint8_t* k_panel(int64_t layer, int64_t head, BlockTable table, int64_t pos) const;
  const uint8_t* v_row(int64_t layer, int64_t head, BlockTable table, int64_t pos) const;
  void store_key(uint8_t* panel, int64_t lane, const float* x);

  int64_t n_layer_ = 0;
  int64_t n_ctx_ = 0;
  int64_t n_blocks_ = 0;
  int64_t n_head_kv_ = 0;
  int64_t head_dim_ = 0;
  int64_t n_q8_blocks_ = 0;  // q8_0 blocks per head row
  cpu::KvFormat k_type_ = cpu::KvFormat::kF32;
  cpu::KvFormat v_type_ = cpu::KvFormat::kF32;
  uint64_t k_panel_bytes_ = 0;
  uint64_t k_block_bytes_ = 0;
  uint64_t k_head_bytes_ = 0;
  uint64_t v_row_bytes_ = 0;
  uint64_t v_block_bytes_ = 0;
  uint64_t v_head_bytes_ = 0;
  AlignedBuffer<uint8_t> k_;
  AlignedBuffer<uint8_t> v_;
  std::vector<int32_t> identity_;  // 0, 1, ..., n_blocks - 1
};

}  // namespace rf
