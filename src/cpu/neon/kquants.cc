// q4_K, q5_K and q6_K weight kernels for arm64 NEON with SDOT: q8_K activations, rows x tokens tiles.
//
// Quants become int8 (q4_K/q5_K as 0..15 / 0..31, q6_K as q - 32), so SDOT multiplies them with the
// int8 activations directly: per sub-block (32 weights for q4_K/q5_K, 16 for q6_K) SDOT into a fresh
// int32x4, then one MLA by the sub-block scale into the super-block's int32 sum. That sum becomes
// f32 once per super-block, times d_w * d_a. The q4_K/q5_K mins multiply the activation's bsums.
// A tile holds R rows x T tokens of int32 and f32 accumulators: 2 x 4 for prefill (weights unpacked
// once per 4 tokens), 4 x 1 for decode.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Super-blocks ahead to prefetch on each weight row.
constexpr int kPrefetchBlocks = 8;

// ---- q8_K activations ----------------------------------------------------------------------

// The scalar quantizer's steps, 4 lanes at a time: the first element of largest magnitude sets
// iscale = -127 / max; q = round-to-nearest-even(x * iscale) (FCVTNS); d = 1 / iscale.
void quantize_act_q8_K(const float* x, uint8_t* out, int64_t k) {
  auto* y = reinterpret_cast<BlockQ8_K*>(out);
  for (int64_t b = 0; b < k / kSuperBlockSize; ++b, x += kSuperBlockSize) {
    float32x4_t vmax = vdupq_n_f32(0);
    // FMAXNM returns the number when the other operand is a quiet NaN: NaNs are skipped, as in scalar.
    for (int i = 0; i < 64; ++i) vmax = vmaxnmq_f32(vmax, vabsq_f32(vld1q_f32(x + 4 * i)));
    const float amax = vmaxnmvq_f32(vmax);
    float max = 0;
    for (int j = 0; j < kSuperBlockSize && amax != 0; ++j) {
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    }
    const float iscale = amax != 0 ? -127.f / max : 0.f;
    BlockQ8_K block;
    if (!std::isfinite(iscale) || iscale == 0) {
      std::memset(&block, 0, sizeof(block));
    } else {
      for (int i = 0; i < 16; ++i) {
        int32x4_t q[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          q[j] = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 16 * i + 4 * j), iscale));
          q[j] = vminq_s32(vmaxq_s32(q[j], vdupq_n_s32(-128)), vdupq_n_s32(127));
        }
        block.bsums[i] = static_cast<int16_t>(vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3]))));
        const int16x8_t lo = vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]));
        const int16x8_t hi = vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]));
        vst1q_s8(block.qs + 16 * i, vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)));
      }
      block.d = 1 / iscale;
    }
    std::memcpy(&y[b], &block, sizeof(block));
  }
}

// ---- shared tile plumbing -----------------------------------------------------------------

// Every cache line that weight block b + kPrefetchBlocks of a row may touch (blocks are 144-210
// bytes at any alignment). The address is computed as an integer: it may lie past the row's end,
// where a prefetch is harmless but pointer arithmetic is not.
template <class Block>
void prefetch_ahead(const Block* row, int64_t b) {
  const uintptr_t first =
      reinterpret_cast<uintptr_t>(row) + static_cast<uintptr_t>(b + kPrefetchBlocks) * sizeof(Block);
  for (uintptr_t line = first; line < first + sizeof(Block) + 63; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

float half_to_float(uint16_t h) {
  float16_t f;
  std::memcpy(&f, &h, sizeof(h));
  return static_cast<float>(f);
}

template <int R, int T>
void store_tile(const GemmArgs& g, int64_t r0, int64_t c0, const float32x4_t (&acc)[R][T]) {
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) g.out[(c0 + t) * g.out_stride + r0 + r] = vaddvq_f32(acc[r][t]);
  }
}

// Runs tiles over the (n_rows x n_cols) problem, tokens outer so a token group's activations stay
// in L1 while the rows stream by: 2 x 4 tiles, then the token remainder as 2 x 3, 2 x 2 or 4 x 1.
template <template <int, int> class Tile>
void gemm_tiles(const GemmArgs& g) {
  int64_t c0 = 0;
  const auto rows2 = [&](auto two, auto one) {
    int64_t r0 = 0;
    for (; r0 + 2 <= g.n_rows; r0 += 2) two(r0);
    if (r0 < g.n_rows) one(r0);
  };
  for (; c0 + 4 <= g.n_cols; c0 += 4) {
    rows2([&](int64_t r0) { Tile<2, 4>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 4>::run(g, r0, c0); });
  }
  switch (g.n_cols - c0) {
    case 0: return;
    case 1: {
      int64_t r0 = 0;
      for (; r0 + 4 <= g.n_rows; r0 += 4) Tile<4, 1>::run(g, r0, c0);
      for (; r0 < g.n_rows; ++r0) Tile<1, 1>::run(g, r0, c0);
      return;
    }
    case 2:
      rows2([&](int64_t r0) { Tile<2, 2>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 2>::run(g, r0, c0); });
      return;
    default:
      rows2([&](int64_t r0) { Tile<2, 3>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 3>::run(g, r0, c0); });
      return;
  }
}

// ---- q4_K and q5_K ------------------------------------------------------------------------

// The 8 six-bit scales (as int32, for MLA by scalar) and mins (as int16) of a q4_K/q5_K super-block.
struct ScalesMins {
  int32_t sc[8];
  int16x8_t mins;
};

ScalesMins unpack_scales_mins(const uint8_t* scales) {
  // 12 bytes: bytes 0-3 low 6 bits = sc0-3, bytes 4-7 low 6 bits = m0-3, bytes 8-11 nibbles =
  // low 4 bits of sc4-7 / m4-7, whose top 2 bits are the top bits of bytes 0-3 / 4-7.
  uint32_t u[3];
  std::memcpy(u, scales, sizeof(u));
  const uint32_t packed[4] = {u[0] & 0x3f3f3f3f, (u[2] & 0x0f0f0f0f) | ((u[0] >> 6) & 0x03030303) << 4,
                              u[1] & 0x3f3f3f3f, ((u[2] >> 4) & 0x0f0f0f0f) | ((u[1] >> 6) & 0x03030303) << 4};
  uint8_t bytes[16];
  std::memcpy(bytes, packed, sizeof(bytes));
  ScalesMins out;
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) out.sc[s] = bytes[s];
  out.mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(bytes + 8)));
  return out;
}

template <bool kQ5>
struct K4 {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;

  // 16 quants of sub-block s from its pair's qs bytes (and the fifth bits, bit s of qh).
  static int8x16_t quants(uint8x16_t raw, uint8x16_t qh, int s) {
    uint8x16_t q = s % 2 == 0 ? vandq_u8(raw, vdupq_n_u8(0x0f)) : vshrq_n_u8(raw, 4);
    if constexpr (kQ5) {
      q = vorrq_u8(q, vandq_u8(vtstq_u8(qh, vdupq_n_u8(static_cast<uint8_t>(1u << s))), vdupq_n_u8(0x10)));
    }
    return vreinterpretq_s8_u8(q);
  }

  template <int R, int T>
  struct Tile {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const Block* w[R];
      const BlockQ8_K* a[T];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r) * g.w_stride);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      const int32x4_t zero = vdupq_n_s32(0);

      float32x4_t acc[R][T];
      for (auto& row : acc) {
        for (auto& v : row) v = vdupq_n_f32(0);
      }
      for (int64_t b = 0; b < nb; ++b) {
        ScalesMins sm[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          prefetch_ahead(w[r], b);
          sm[r] = unpack_scales_mins(w[r][b].scales);
        }
        int32x4_t sumi[R][T];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) sumi[r][t] = zero;
        }
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
          int8x16_t q0[R], q1[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const uint8_t* qs = w[r][b].qs + 32 * (s / 2);
            uint8x16_t qh0 = vdupq_n_u8(0), qh1 = vdupq_n_u8(0);
            if constexpr (kQ5) {
              qh0 = vld1q_u8(w[r][b].qh);
              qh1 = vld1q_u8(w[r][b].qh + 16);
            }
            q0[r] = quants(vld1q_u8(qs), qh0, s);
            q1[r] = quants(vld1q_u8(qs + 16), qh1, s);
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const int8x16_t a0 = vld1q_s8(a[t][b].qs + 32 * s);
            const int8x16_t a1 = vld1q_s8(a[t][b].qs + 32 * s + 16);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              const int32x4_t dot = vdotq_s32(vdotq_s32(zero, q0[r], a0), q1[r], a1);
              sumi[r][t] = vmlaq_n_s32(sumi[r][t], dot, sm[r].sc[s]);
            }
          }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const float da = a[t][b].d;
          // Sums over the 8 sub-blocks of 32: adjacent bsums of 16 added pairwise.
          const int16x8_t bs = vpaddq_s16(vld1q_s16(a[t][b].bsums), vld1q_s16(a[t][b].bsums + 8));
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const int32x4_t summ =
                vmlal_high_s16(vmull_s16(vget_low_s16(bs), vget_low_s16(sm[r].mins)), bs, sm[r].mins);
            const float d = half_to_float(w[r][b].d) * da;
            const float dmin = half_to_float(w[r][b].dmin) * da;
            acc[r][t] = vfmaq_f32(acc[r][t], vcvtq_f32_s32(sumi[r][t]), vdupq_n_f32(d));
            acc[r][t] = vfmsq_f32(acc[r][t], vcvtq_f32_s32(summ), vdupq_n_f32(dmin));
          }
        }
      }
      store_tile<R, T>(g, r0, c0, acc);
    }
  };
};

template <int R, int T>
using Q4KTile = K4<false>::Tile<R, T>;
template <int R, int T>
using Q5KTile = K4<true>::Tile<R, T>;

// ---- q6_K ---------------------------------------------------------------------------------

template <int R, int T>
struct Q6KTile {
  // 16 quants minus 32 of group g (0..3): low nibble of ql (g < 2) or high (g >= 2), top two bits
  // from bits 2g, 2g + 1 of qh (moved to bits 4, 5 by a register shift: negative shifts right).
  static int8x16_t quants(uint8x16_t ql, uint8x16_t qh, int g) {
    const uint8x16_t lo = g < 2 ? vandq_u8(ql, vdupq_n_u8(0x0f)) : vshrq_n_u8(ql, 4);
    const uint8x16_t hi = vandq_u8(vshlq_u8(qh, vdupq_n_s8(static_cast<int8_t>(4 - 2 * g))), vdupq_n_u8(0x30));
    return vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hi)), vdupq_n_s8(32));
  }

  static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
    const int64_t nb = g.k / kSuperBlockSize;
    const BlockQ6_K* w[R];
    const BlockQ8_K* a[T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ6_K*>(g.w + (r0 + r) * g.w_stride);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
    const int32x4_t zero = vdupq_n_s32(0);

    float32x4_t acc[R][T];
    for (auto& row : acc) {
      for (auto& v : row) v = vdupq_n_f32(0);
    }
    for (int64_t b = 0; b < nb; ++b) {
      int32x4_t sumi[R][T];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w[r], b);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) sumi[r][t] = zero;
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int gr = 0; gr < 4; ++gr) {
          int8x16_t q0[R], q1[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const uint8_t* ql = w[r][b].ql + 64 * h + 32 * (gr & 1);
            const uint8_t* qh = w[r][b].qh + 32 * h;
            q0[r] = quants(vld1q_u8(ql), vld1q_u8(qh), gr);
            q1[r] = quants(vld1q_u8(ql + 16), vld1q_u8(qh + 16), gr);
          }
          const int j = 8 * h + 2 * gr;  // sub-blocks j (first 16 weights) and j + 1
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const int8_t* aq = a[t][b].qs + 128 * h + 32 * gr;
            const int8x16_t a0 = vld1q_s8(aq);
            const int8x16_t a1 = vld1q_s8(aq + 16);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              sumi[r][t] = vmlaq_n_s32(sumi[r][t], vdotq_s32(zero, q0[r], a0), w[r][b].scales[j]);
              sumi[r][t] = vmlaq_n_s32(sumi[r][t], vdotq_s32(zero, q1[r], a1), w[r][b].scales[j + 1]);
            }
          }
        }
      }
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const float da = a[t][b].d;
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const float d = half_to_float(w[r][b].d) * da;
          acc[r][t] = vfmaq_f32(acc[r][t], vcvtq_f32_s32(sumi[r][t]), vdupq_n_f32(d));
        }
      }
    }
    store_tile<R, T>(g, r0, c0, acc);
  }
};

void gemm_q4_K(const GemmArgs& g) { gemm_tiles<Q4KTile>(g); }
void gemm_q5_K(const GemmArgs& g) { gemm_tiles<Q5KTile>(g); }
void gemm_q6_K(const GemmArgs& g) { gemm_tiles<Q6KTile>(g); }

}  // namespace

void fill_neon_kquants(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q4_K};
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q5_K};
  t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q6_K};
}

}  // namespace rf::cpu
