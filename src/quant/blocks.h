// Quantized block layouts, byte for byte as ggml stores them in GGUF files (little-endian).
#pragma once

#include <cstdint>

namespace rf {

constexpr int kBlockSize = 32;        // elements per block of the legacy types (q4_0 ... q8_0)
constexpr int kSuperBlockSize = 256;  // elements per super-block of the k-quants (q4_K ... q8_K)
constexpr int kKScaleBytes = 12;      // 8 six-bit scales + 8 six-bit mins of q4_K/q5_K

// Half-precision fields are raw IEEE binary16 bits (see quant/fp16.h).

// Element j < 16 is the low nibble of qs[j], element j + 16 its high nibble; value (q - 8) * d.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kBlockSize / 2];
};

// As q4_0, unsigned: value q * d + m.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kBlockSize / 2];
};

// Nibbles as q4_0; bit j of the little-endian u32 qh is the fifth bit of element j. Value (q - 16) * d.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kBlockSize / 2];
};

// As q5_0, unsigned: value q * d + m.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kBlockSize / 2];
};

// Value qs[j] * d.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kBlockSize];
};

// 8 sub-blocks of 32. Sub-block s has scale d * sc[s] and min dmin * m[s] (6-bit each, packed in
// `scales`, see unpack_scale_min_k4). Sub-blocks 2p and 2p+1 share qs[32p .. 32p+31]: low nibbles
// for 2p, high for 2p+1. Value d * sc * q - dmin * m.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kSuperBlockSize / 2];
};

// As q4_K plus a fifth bit: bit s of qh[l] belongs to element l of sub-block s (l < 32).
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 2];
};

// Two halves of 128. In half h, element 32g + l (g < 4, l < 32) takes its low 4 bits from
// ql[64h + l + 32(g & 1)] (low nibble for g < 2, high for g >= 2) and its top 2 bits from
// bits 2g..2g+1 of qh[32h + l]. 16 sub-blocks of 16 with int8 scales. Value d * scales[i/16] * (q - 32).
struct BlockQ6_K {
  uint8_t ql[kSuperBlockSize / 2];
  uint8_t qh[kSuperBlockSize / 4];
  int8_t scales[kSuperBlockSize / 16];
  uint16_t d;
};

// Activation format for k-quant dot products: f32 scale, bsums[i] = sum of qs[16i .. 16i+15].
struct BlockQ8_K {
  float d;
  int8_t qs[kSuperBlockSize];
  int16_t bsums[kSuperBlockSize / 16];
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// q4_K/q5_K scale packing, sub-block s (0..7), 6 bits each:
//   s < 4:  sc = scales[s] & 63,  m = scales[s + 4] & 63
//   s >= 4: sc = scales[s + 4] low nibble | (scales[s - 4] >> 6) << 4,
//           m  = scales[s + 4] high nibble | (scales[s] >> 6) << 4
inline void unpack_scale_min_k4(int s, const uint8_t* scales, uint8_t& sc, uint8_t& m) {
  if (s < 4) {
    sc = scales[s] & 63;
    m = scales[s + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((scales[s + 4] & 0xf) | ((scales[s - 4] >> 6) << 4));
    m = static_cast<uint8_t>((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
  }
}

// Inverse of unpack_scale_min_k4 for all 8 sub-blocks at once; sc and m must be < 64.
inline void pack_scales_mins_k4(const uint8_t* sc, const uint8_t* m, uint8_t* scales) {
  for (int s = 0; s < 4; ++s) {
    scales[s] = static_cast<uint8_t>(sc[s] | ((sc[s + 4] >> 4) << 6));
    scales[s + 4] = static_cast<uint8_t>(m[s] | ((m[s + 4] >> 4) << 6));
    scales[s + 8] = static_cast<uint8_t>((sc[s + 4] & 0xf) | ((m[s + 4] & 0xf) << 4));
  }
}

}  // namespace rf
