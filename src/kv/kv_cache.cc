// KvCache storage: f32 copies or q8_0 quantization (ggml's rounding) into key panels and value rows.
#include "kv/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/check.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quantize_blocks.h"

namespace rf {
namespace {

using cpu::KvFormat;
using cpu::kKvBlock;
using cpu::kKvTile;

constexpr uint64_t kPanelAlign = 64;

// Quantizes one head row into q8_0 blocks; a short last block is zero-padded first.
void quantize_row(const float* x, int64_t head_dim, int64_t n_blocks, BlockQ8_0* out) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    float block[kKvBlock] = {};
    std::copy_n(x + b * kKvBlock, std::min(kKvBlock, head_dim - b * kKvBlock), block);
    quant_detail::quantize_q8_0(block, out + b, 1);
  }
}

}  // namespace

Result<KvFormat> parse_kv_type(std::string_view name) {
  if (name == "f32") return KvFormat::kF32;
  if (name == "q8_0") return KvFormat::kQ8_0;
  return make_error("KV cache type '%.*s' is not supported: expected f32 or q8_0", static_cast<int>(name.size()),
                    name.data());
}

std::string_view kv_type_name(KvFormat type) { return type == KvFormat::kQ8_0 ? "q8_0" : "f32"; }

KvCache::KvCache(int64_t n_layer, int64_t n_positions, int64_t n_head_kv, int64_t head_dim, KvFormat k_type,
                 KvFormat v_type)
    : n_layer_(n_layer), n_ctx_(n_positions), n_blocks_((n_positions + kBlockPositions - 1) / kBlockPositions),
      n_head_kv_(n_head_kv), head_dim_(head_dim), n_q8_blocks_((head_dim + kKvBlock - 1) / kKvBlock),
      k_type_(k_type), v_type_(v_type) {
  RF_CHECK(n_layer > 0 && n_positions > 0 && n_head_kv > 0 && head_dim > 0);
  const auto hd = static_cast<uint64_t>(head_dim);
  const auto nb = static_cast<uint64_t>(n_q8_blocks_);
  const uint64_t panel = k_type == KvFormat::kF32 ? hd * kKvTile * sizeof(float)
                                                  : nb * kKvTile * (kKvBlock + sizeof(uint16_t));
  k_panel_bytes_ = (panel + kPanelAlign - 1) / kPanelAlign * kPanelAlign;
  k_block_bytes_ = k_panel_bytes_ * (kBlockPositions / kKvTile);
  k_head_bytes_ = k_block_bytes_ * static_cast<uint64_t>(n_blocks_);
  v_row_bytes_ = v_type == KvFormat::kF32 ? hd * sizeof(float) : nb * sizeof(BlockQ8_0);
  v_block_bytes_ = v_row_bytes_ * kBlockPositions;
  v_head_bytes_ = v_block_bytes_ * static_cast<uint64_t>(n_blocks_);
  const auto heads = static_cast<uint64_t>(n_layer * n_head_kv);
  k_ = AlignedBuffer<uint8_t>(heads * k_head_bytes_);
  v_ = AlignedBuffer<uint8_t>(heads * v_head_bytes_);
  identity_.resize(static_cast<size_t>(n_blocks_));
  for (int64_t b = 0; b < n_blocks_; ++b) identity_[static_cast<size_t>(b)] = static_cast<int32_t>(b);
}

uint64_t KvCache::block_bytes() const {
  return static_cast<uint64_t>(n_layer_ * n_head_kv_) * (k_block_bytes_ + v_block_bytes_);
}

const uint8_t* KvCache::k_panel(int64_t layer, int64_t head, BlockTable table, int64_t pos) const {
  RF_CHECK(pos >= 0 && pos / kBlockPositions < static_cast<int64_t>(table.size()));
  const int32_t block = table[static_cast<size_t>(pos / kBlockPositions)];
  RF_CHECK(block >= 0 && block < n_blocks_);
  return k_.data() + static_cast<uint64_t>(layer * n_head_kv_ + head) * k_head_bytes_ +
         static_cast<uint64_t>(block) * k_block_bytes_ + static_cast<uint64_t>(pos % kBlockPositions / kKvTile) * k_panel_bytes_;
}

const uint8_t* KvCache::v_row(int64_t layer, int64_t head, BlockTable table, int64_t pos) const {
  RF_CHECK(pos >= 0 && pos / kBlockPositions < static_cast<int64_t>(table.size()));
  const int32_t block = table[static_cast<size_t>(pos / kBlockPositions)];
  RF_CHECK(block >= 0 && block < n_blocks_);
  return v_.data() + static_cast<uint64_t>(layer * n_head_kv_ + head) * v_head_bytes_ +
         static_cast<uint64_t>(block) * v_block_bytes_ + static_cast<uint64_t>(pos % kBlockPositions) * v_row_bytes_;
}

// Key x (head_dim floats) into lane `lane` of a panel: f32 k[d][16]; q8_0 qs[b][d/4][16][4] and scales[b][16].
void KvCache::store_key(uint8_t* panel, int64_t lane, const float* x) {
  if (k_type_ == KvFormat::kF32) {
    auto* k = reinterpret_cast<float*>(panel);
    for (int64_t d = 0; d < head_dim_; ++d) k[d * kKvTile + lane] = x[d];
    return;
  }
  BlockQ8_0 blocks[1];
  uint8_t* scales = panel + n_q8_blocks_ * kKvTile * kKvBlock;
  for (int64_t b = 0; b < n_q8_blocks_; ++b) {
    quantize_row(x + b * kKvBlock, head_dim_ - b * kKvBlock, 1, blocks);
    uint8_t* qs = panel + b * kKvTile * kKvBlock;
    for (int64_t i = 0; i < kKvBlock; ++i) {
      qs[(i / 4) * kKvTile * 4 + lane * 4 + i % 4] = static_cast<uint8_t>(blocks[0].qs[i]);
    }
    std::memcpy(scales + (b * kKvTile + lane) * sizeof(uint16_t), &blocks[0].d, sizeof(uint16_t));
  }
}

void KvCache::store(int64_t layer, BlockTable table, int64_t pos, int64_t n, const float* k, const float* v,
                    int64_t stride) {
  RF_CHECK(pos >= 0 && n >= 0);
  for (int64_t t = 0; t < n; ++t) {
    const int64_t p = pos + t;
    for (int64_t h = 0; h < n_head_kv_; ++h) {
      const float* kx = k + t * stride + h * head_dim_;
      const float* vx = v + t * stride + h * head_dim_;
      store_key(const_cast<uint8_t*>(k_panel(layer, h, table, p)), p % kKvTile, kx);
      auto* vrow = const_cast<uint8_t*>(v_row(layer, h, table, p));
      if (v_type_ == KvFormat::kF32) {
        std::memcpy(vrow, vx, static_cast<size_t>(head_dim_) * sizeof(float));
      } else {
        quantize_row(vx, head_dim_, n_q8_blocks_, reinterpret_cast<BlockQ8_0*>(vrow));
      }
    }
  }
}

cpu::KvLayerView KvCache::layer(int64_t layer, BlockTable table) const {
  cpu::KvLayerView view;
  view.k_format = k_type_;
  view.v_format = v_type_;
  view.blocks = table.data();
  view.n_blocks = static_cast<int64_t>(table.size());
  view.k = k_.data() + static_cast<uint64_t>(layer * n_head_kv_) * k_head_bytes_;
  view.k_panel_bytes = k_panel_bytes_;
  view.k_block_bytes = k_block_bytes_;
  view.k_head_bytes = k_head_bytes_;
  view.v = v_.data() + static_cast<uint64_t>(layer * n_head_kv_) * v_head_bytes_;
  view.v_row_bytes = v_row_bytes_;
  view.v_block_bytes = v_block_bytes_;
  view.v_head_bytes = v_head_bytes_;
  return view;
}

void KvCache::load_k(int64_t layer, int64_t head, BlockTable table, int64_t pos, float* out) const {
  const uint8_t* panel = k_panel(layer, head, table, pos);
  const int64_t lane = pos % kKvTile;
  if (k_type_ == KvFormat::kF32) {
    const auto* k = reinterpret_cast<const float*>(panel);
    for (int64_t d = 0; d < head_dim_; ++d) out[d] = k[d * kKvTile + lane];
    return;
  }
  const uint8_t* scales = panel + n_q8_blocks_ * kKvTile * kKvBlock;
  for (int64_t d = 0; d < head_dim_; ++d) {
    const int64_t b = d / kKvBlock;
    const int64_t i = d % kKvBlock;
    uint16_t h;
    std::memcpy(&h, scales + (b * kKvTile + lane) * sizeof(uint16_t), sizeof h);
    const auto q = static_cast<int8_t>(panel[b * kKvTile * kKvBlock + (i / 4) * kKvTile * 4 + lane * 4 + i % 4]);
    out[d] = fp16_to_f32(h) * static_cast<float>(q);
  }
}

void KvCache::load_v(int64_t layer, int64_t head, BlockTable table, int64_t pos, float* out) const {
  const uint8_t* row = v_row(layer, head, table, pos);
  if (v_type_ == KvFormat::kF32) {
    std::memcpy(out, row, static_cast<size_t>(head_dim_) * sizeof(float));
    return;
  }
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
  for (int64_t d = 0; d < head_dim_; ++d) {
    const BlockQ8_0& b = blocks[d / kKvBlock];
    out[d] = fp16_to_f32(b.d) * static_cast<float>(b.qs[d % kKvBlock]);
  }
}

}  // namespace rf
