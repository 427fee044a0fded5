// Tiled attention with online softmax in portable C++: the reference the vector levels are tested against.
//
// Same algorithm and data layouts as the vector levels (kv tiles of 16 positions, q8_0 queries
// for q8_0 keys), written plainly; exp is std::exp.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

struct Dims {
  int64_t hd;      // head_dim
  int64_t dim;     // head_dim rounded up to 32 (scratch row stride)
  int64_t blocks;  // q8_0 blocks per row
};

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// IEEE binary16 bits -> float (exact), kept local: ISA files share no inline code.
float half_to_float(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    v = mantissa != 0 ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return (h & 0x8000) != 0 ? -v : v;
}

void prepare_queries(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const float* src = a.q + (r / a.group) * a.q_stride + (r % a.group) * dm.hd;
    float* dst = s.q + r * dm.dim;
    for (int64_t i = 0; i < dm.dim; ++i) dst[i] = i < dm.hd ? src[i] * a.scale : 0.0f;
    if (a.k_format != KvFormat::kQ8_0) continue;
    for (int64_t b = 0; b < dm.blocks; ++b) {
      const float* x = dst + b * kKvBlock;
      float amax = 0.0f;
      for (int64_t i = 0; i < kKvBlock; ++i) amax = std::fmax(amax, std::fabs(x[i]));
      const float d = amax / 127.0f;
      const float id = d > 0.0f ? 1.0f / d : 0.0f;
      int32_t sum = 0;
      for (int64_t i = 0; i < kKvBlock; ++i) {
        const auto q = static_cast<int8_t>(std::nearbyint(x[i] * id));
        s.q8[r * dm.dim + b * kKvBlock + i] = q;
        sum += q;
      }
      s.q8_d[r * dm.blocks + b] = d;
      s.q8_sum[r * dm.blocks + b] = 128 * sum;
    }
  }
}

// p[r][j] = q_r . k_j for the 16 positions of one key panel.
void scores(const AttentionArgs& a, const Dims& dm, const uint8_t* panel) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    float* p = s.p + r * kKvTile;
    if (a.k_format == KvFormat::kF32) {
      const auto* k = reinterpret_cast<const float*>(panel);
      const float* q = s.q + r * dm.dim;
      for (int64_t j = 0; j < kKvTile; ++j) p[j] = 0.0f;
      for (int64_t d = 0; d < dm.hd; ++d) {
        for (int64_t j = 0; j < kKvTile; ++j) p[j] += q[d] * k[d * kKvTile + j];
      }
      continue;
    }
    const auto* qs = reinterpret_cast<const int8_t*>(panel);
    const uint8_t* scales = panel + dm.blocks * kKvTile * kKvBlock;
    for (int64_t j = 0; j < kKvTile; ++j) {
      float acc = 0.0f;
      for (int64_t b = 0; b < dm.blocks; ++b) {
        int32_t dot = 0;
        for (int64_t i = 0; i < kKvBlock; ++i) {
          const int8_t k = qs[b * kKvTile * kKvBlock + (i / 4) * kKvTile * 4 + j * 4 + i % 4];
          dot += k * s.q8[r * dm.dim + b * kKvBlock + i];
        }
        uint16_t dk;
        std::memcpy(&dk, scales + (b * kKvTile + j) * sizeof(uint16_t), sizeof dk);
        acc += static_cast<float>(dot) * (half_to_float(dk) * s.q8_d[r * dm.blocks + b]);
      }
      p[j] = acc;
    }
  }
}

// Masks, raises the running max, and replaces scores by exp(score - max); c = exp(old - new max).
void online_softmax(const AttentionArgs& a, int64_t tile_pos, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const int64_t visible = min64(n_valid, a.pos0 + r / a.group - tile_pos + 1);
    float* p = s.p + r * kKvTile;
    float* l = s.l + r * kKvTile;
    float tile_max = -INFINITY;
    for (int64_t j = 0; j < visible; ++j) tile_max = std::fmax(tile_max, p[j]);
    const float new_max = std::fmax(s.m[r], tile_max);
    if (new_max == -INFINITY) {  // nothing seen yet
      s.c[r] = 1.0f;
      for (int64_t j = 0; j < kKvTile; ++j) p[j] = 0.0f;
      continue;
    }
    s.c[r] = std::exp(s.m[r] - new_max);
    s.m[r] = new_max;
    for (int64_t j = 0; j < kKvTile; ++j) {
      p[j] = j < visible ? std::exp(p[j] - new_max) : 0.0f;
      l[j] = l[j] * s.c[r] + p[j];
    }
  }
}

void accumulate_values(const AttentionArgs& a, const Dims& dm, int64_t tile_pos, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  float* v = s.v;
  for (int64_t t = 0; t < n_valid; ++t) {
    const int64_t pos = tile_pos + t;
    const uint8_t* row = a.v + static_cast<uint64_t>(a.blocks[pos / kKvStep]) * a.v_block_bytes +
                         static_cast<uint64_t>(pos % kKvStep) * a.v_row_bytes;
    float* dst = v + t * dm.dim;
    if (a.v_format == KvFormat::kF32) {
      std::memcpy(dst, row, static_cast<size_t>(dm.hd) * sizeof(float));
      continue;
    }
    for (int64_t b = 0; b < dm.blocks; ++b) {
      const uint8_t* block = row + b * (2 + kKvBlock);  // fp16 d, then 32 int8
      uint16_t d16;
      std::memcpy(&d16, block, sizeof d16);
      const float d = half_to_float(d16);
      for (int64_t i = 0; i < kKvBlock; ++i) dst[b * kKvBlock + i] = d * static_cast<float>(static_cast<int8_t>(block[2 + i]));
    }
  }
  for (int64_t r = 0; r < a.n_rows; ++r) {
    float* o = s.o + r * dm.dim;
    const float* p = s.p + r * kKvTile;
    for (int64_t i = 0; i < dm.hd; ++i) o[i] *= s.c[r];
    for (int64_t t = 0; t < n_valid; ++t) {
      for (int64_t i = 0; i < dm.hd; ++i) o[i] += p[t] * v[t * dm.dim + i];
    }
  }
}

void write_output(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    float sum = 0.0f;
    for (int64_t j = 0; j < kKvTile; ++j) sum += s.l[r * kKvTile + j];
    float* dst = a.out + (r / a.group) * a.out_stride + (r % a.group) * dm.hd;
    const float scale = a.max_sum != nullptr ? 1.0f : 1.0f / sum;
    for (int64_t i = 0; i < dm.hd; ++i) dst[i] = s.o[r * dm.dim + i] * scale;
    if (a.max_sum != nullptr) {
      a.max_sum[2 * r] = s.m[r];
      a.max_sum[2 * r + 1] = sum;
    }
  }
}

void attention(const AttentionArgs& a) {
  const int64_t dim = (a.head_dim + kKvBlock - 1) / kKvBlock * kKvBlock;
  const Dims dm{a.head_dim, dim, dim / kKvBlock};
  const AttentionScratch& s = a.scratch;
  prepare_queries(a, dm);
  std::memset(s.o, 0, static_cast<size_t>(a.n_rows * dim) * sizeof(float));
  std::memset(s.l, 0, static_cast<size_t>(a.n_rows * kKvTile) * sizeof(float));
  for (int64_t r = 0; r < a.n_rows; ++r) s.m[r] = -INFINITY;
  for (int64_t tile_pos = a.kv_begin; tile_pos < a.kv_end; tile_pos += kKvTile) {
    const int64_t n_valid = min64(kKvTile, a.kv_end - tile_pos);
    const uint8_t* panel = a.k + static_cast<uint64_t>(a.blocks[tile_pos / kKvStep]) * a.k_block_bytes +
                           static_cast<uint64_t>(tile_pos % kKvStep / kKvTile) * a.k_panel_bytes;
    scores(a, dm, panel);
    online_softmax(a, tile_pos, n_valid);
    accumulate_values(a, dm, tile_pos, n_valid);
  }
  write_output(a, dm);
}

}  // namespace

void fill_scalar_attn(KernelTable& t) { t.ops.attention = attention; }

}  // namespace rf::cpu
