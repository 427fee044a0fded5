// Legacy-quant kernels (q4_0, q4_1, q5_0, q5_1, q8_0 x ActBlockQ8) for arm64 NEON with SDOT.
//
// SDOT multiplies signed bytes, so weights are made signed in the integer domain (q4_0 q - 8,
// q5_0 q - 16; q4_1/q5_1 keep q in 0..31 and add m * sum_a). A block's 32 weights are two 16-byte
// vectors in element order; each (row, token) pair takes two SDOTs into 4 partial lanes that share
// one scale, dw * da, so lanes are reduced only once per output. Register tiles of 4 rows x up to 4
// tokens reuse each unpacked weight block for every token and each activation load for every row.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Byte layout of each weight type; kQh/kMin < 0: absent. kSub: subtracted from each q.
struct Q4_0 {
  [[maybe_unused]] static constexpr int kBytes = 18, kQs = 2, kQh = -1, kMin = -1, kSub = 8;
  static constexpr bool kNibbles = true;
};
struct Q4_1 {
  [[maybe_unused]] static constexpr int kBytes = 20, kQs = 4, kQh = -1, kMin = 2, kSub = 0;
  static constexpr bool kNibbles = true;
};
struct Q5_0 {
  [[maybe_unused]] static constexpr int kBytes = 22, kQs = 6, kQh = 2, kMin = -1, kSub = 16;
  static constexpr bool kNibbles = true;
};
struct Q5_1 {
  [[maybe_unused]] static constexpr int kBytes = 24, kQs = 8, kQh = 4, kMin = 2, kSub = 0;
  static constexpr bool kNibbles = true;
};
struct Q8_0 {
  [[maybe_unused]] static constexpr int kBytes = 34, kQs = 2, kQh = -1, kMin = -1, kSub = 0;
  static constexpr bool kNibbles = false;
};
static_assert(sizeof(BlockQ4_0) == Q4_0::kBytes && sizeof(BlockQ4_1) == Q4_1::kBytes);
static_assert(sizeof(BlockQ5_0) == Q5_0::kBytes && sizeof(BlockQ5_1) == Q5_1::kBytes);
static_assert(sizeof(BlockQ8_0) == Q8_0::kBytes && offsetof(BlockQ5_1, qh) == Q5_1::kQh);

constexpr int kActBytes = sizeof(ActBlockQ8);
constexpr int kActQs = offsetof(ActBlockQ8, qs);
constexpr int kActSum = offsetof(ActBlockQ8, sum);
constexpr int kRows = 4;    // rows per register tile
constexpr int kTokens = 4;  // tokens per register tile

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
float load_f16(const uint8_t* p) {
  __fp16 h;
  std::memcpy(&h, p, sizeof(h));
  return static_cast<float>(h);
}

// ---- activations ------------------------------------------------------------------------------

// Bit for bit the scalar level: d = amax / 127, q = round-to-even(x * (1 / d)), sum = d * Σq.
void quantize_act_q8(const float* x, uint8_t* out, int64_t k) {
  for (int64_t b = 0; b < k / kBlockSize; ++b, x += kBlockSize, out += kActBytes) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.f);
    for (int i = 0; i < 8; ++i) {
      v[i] = vld1q_f32(x + 4 * i);
      m = vmaxq_f32(m, vabsq_f32(v[i]));
    }
    const float d = vmaxvq_f32(m) / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    int32x4_t q[8];
    int32x4_t s = vdupq_n_s32(0);
    for (int i = 0; i < 8; ++i) {
      q[i] = vcvtnq_s32_f32(vmulq_n_f32(v[i], id));  // round to nearest, ties to even
      s = vaddq_s32(s, q[i]);
    }
    const float sum = d * static_cast<float>(vaddvq_s32(s));
    for (int h = 0; h < 2; ++h) {
      const int16x8_t lo = vcombine_s16(vqmovn_s32(q[4 * h]), vqmovn_s32(q[4 * h + 1]));
      const int16x8_t hi = vcombine_s16(vqmovn_s32(q[4 * h + 2]), vqmovn_s32(q[4 * h + 3]));
      vst1q_s8(reinterpret_cast<int8_t*>(out + kActQs + 16 * h), vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)));
    }
    std::memcpy(out, &d, sizeof(d));
    std::memcpy(out + kActSum, &sum, sizeof(sum));
  }
}

// ---- weights ----------------------------------------------------------------------------------

// 0x10 in byte i where bit i of the low 16 bits of `bits` is set.
uint8x16_t fifth_bits(uint32_t bits) {
  static constexpr uint8_t kSelect[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t v = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(bits)), vdup_n_u8(static_cast<uint8_t>(bits >> 8)));
  return vandq_u8(vtstq_u8(v, vld1q_u8(kSelect)), vdupq_n_u8(0x10));
}

// The block at p as signed bytes in element order: lo = elements 0..15, hi = 16..31.
template <class T>
[[gnu::always_inline]] inline void unpack(const uint8_t* p, int8x16_t& lo, int8x16_t& hi) {
  if constexpr (T::kNibbles) {
    const uint8x16_t x = vld1q_u8(p + T::kQs);
    uint8x16_t l = vandq_u8(x, vdupq_n_u8(0x0f));
    uint8x16_t h = vshrq_n_u8(x, 4);
    if constexpr (T::kQh >= 0) {
      const uint32_t qh = load_u32(p + T::kQh);
      l = vorrq_u8(l, fifth_bits(qh));
      h = vorrq_u8(h, fifth_bits(qh >> 16));
    }
    lo = vsubq_s8(vreinterpretq_s8_u8(l), vdupq_n_s8(T::kSub));
    hi = vsubq_s8(vreinterpretq_s8_u8(h), vdupq_n_s8(T::kSub));
  } else {
    lo = vld1q_s8(reinterpret_cast<const int8_t*>(p + T::kQs));
    hi = vld1q_s8(reinterpret_cast<const int8_t*>(p + T::kQs + 16));
  }
}

// out[c * out_stride + r] for R rows from r0 and C tokens from c0.
template <class T, int R, int C>
void tile(const GemmArgs& g, int64_t r0, int64_t c0) {
  const uint8_t* w[R];
  const uint8_t* a[C];
  for (int r = 0; r < R; ++r) w[r] = g.w + (r0 + r) * g.w_stride;
  for (int t = 0; t < C; ++t) a[t] = g.a + (c0 + t) * g.a_stride;
  float32x4_t acc[R][C];
  float acc_m[R][C] = {};  // Σ m * sum_a (q4_1, q5_1)
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < C; ++t) acc[r][t] = vdupq_n_f32(0.f);
  }
  // Decoding streams rows: fetch the next R rows (one contiguous range) in step with this pass.
  const uintptr_t next = reinterpret_cast<uintptr_t>(w[0]) + R * g.w_stride;  // may lie past the matrix
  const int64_t nb = g.k / kBlockSize;
  const int64_t next_lines = static_cast<int64_t>(R * g.w_stride / 64);
  int64_t line = 0;
  for (int64_t b = 0; b < nb; ++b) {
    for (const int64_t end = (b + 1) * next_lines / nb; line < end; ++line) {
      __builtin_prefetch(reinterpret_cast<const void*>(next + static_cast<uintptr_t>(line) * 64));
    }
    int8x16_t wl[R], wh[R];
    float dw[R], m[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* p = w[r] + b * T::kBytes;
      unpack<T>(p, wl[r], wh[r]);
      dw[r] = load_f16(p);
      if constexpr (T::kMin >= 0) m[r] = load_f16(p + T::kMin);
    }
    for (int t = 0; t < C; ++t) {
      const uint8_t* ab = a[t] + b * kActBytes;
      const int8x16_t al = vld1q_s8(reinterpret_cast<const int8_t*>(ab + kActQs));
      const int8x16_t ah = vld1q_s8(reinterpret_cast<const int8_t*>(ab + kActQs + 16));
      const float da = load_f32(ab);
      for (int r = 0; r < R; ++r) {
        const int32x4_t s = vdotq_s32(vdotq_s32(vdupq_n_s32(0), wl[r], al), wh[r], ah);
        acc[r][t] = vfmaq_n_f32(acc[r][t], vcvtq_f32_s32(s), dw[r] * da);
      }
      if constexpr (T::kMin >= 0) {
        const float sa = load_f32(ab + kActSum);
        for (int r = 0; r < R; ++r) acc_m[r][t] += m[r] * sa;
      }
    }
  }
  for (int t = 0; t < C; ++t) {
    for (int r = 0; r < R; ++r) g.out[(c0 + t) * g.out_stride + r0 + r] = vaddvq_f32(acc[r][t]) + acc_m[r][t];
  }
}

template <class T, int R>
void row_tiles(const GemmArgs& g, int64_t r0) {
  int64_t c0 = 0;
  for (; c0 + kTokens <= g.n_cols; c0 += kTokens) tile<T, R, kTokens>(g, r0, c0);
  switch (g.n_cols - c0) {
    case 1: tile<T, R, 1>(g, r0, c0); break;
    case 2: tile<T, R, 2>(g, r0, c0); break;
    case 3: tile<T, R, 3>(g, r0, c0); break;
    default: break;
  }
}

template <class T>
void gemm(const GemmArgs& g) {
  int64_t r0 = 0;
  for (; r0 + kRows <= g.n_rows; r0 += kRows) row_tiles<T, kRows>(g, r0);
  for (; r0 < g.n_rows; ++r0) row_tiles<T, 1>(g, r0);
}

template <class T, DType kType>
void set_kernel(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(kType)] = {ActFormat::kQ8, quantize_act_q8, gemm<T>};
}

}  // namespace

void fill_neon_legacy(KernelTable& t) {
  set_kernel<Q4_0, DType::kQ4_0>(t);
  set_kernel<Q4_1, DType::kQ4_1>(t);
  set_kernel<Q5_0, DType::kQ5_0>(t);
  set_kernel<Q5_1, DType::kQ5_1>(t);
  set_kernel<Q8_0, DType::kQ8_0>(t);
}

}  // namespace rf::cpu
