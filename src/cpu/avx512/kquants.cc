// q4_K, q5_K and q6_K weight kernels for AVX-512 VNNI: q8_K activations, rows x tokens register tiles.
//
// Per 64 weights of one row and one token: VPMADDUBSW (unsigned quants x signed activations -> 32
// int16 pair sums, at most 2 * 63 * 128 < 2^15) then VPDPWSSD with the sub-block scales as int16
// (-> 16 int32 lanes). A super-block's int32 lanes become f32 once, times d_w * d_a. The q4_K/q5_K
// mins multiply the activation's bsums (VPMADDWD); q6_K's offset of -32 is folded the same way
// (-32 * scale * bsum) into the integer sum, as ggml does.
// A tile holds R rows x T tokens of int32 and f32 accumulators (2 * R * T of the 32 zmm registers):
// weights are unpacked once per tile and reused for T tokens; activations reused for R rows.
// Decode (one token) streams 4 rows per pass.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Super-blocks ahead to prefetch on each weight row (the hardware prefetcher covers most of it;
// this keeps several rows' streams primed).
constexpr int kPrefetchBlocks = 4;

// ---- q8_K activations ----------------------------------------------------------------------

// The scalar quantizer's steps, 16 lanes at a time: the first element of largest magnitude sets
// iscale = -127 / max; q = round-to-nearest-even(x * iscale); d = 1 / iscale.
void quantize_act_q8_K(const float* x, uint8_t* out, int64_t k) {
  auto* y = reinterpret_cast<BlockQ8_K*>(out);
  const __m512 sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < k / kSuperBlockSize; ++b, x += kSuperBlockSize) {
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < 16; ++i) {
      // MAXPS returns its second operand when either is NaN: NaN inputs are skipped, as in scalar.
      vmax = _mm512_max_ps(_mm512_and_ps(_mm512_loadu_ps(x + 16 * i), sign_mask), vmax);
    }
    const float amax = _mm512_reduce_max_ps(vmax);
    float max = 0;
    const __m512 vamax = _mm512_set1_ps(amax);
    for (int i = 0; i < 16 && amax != 0; ++i) {
      const __m512 ax = _mm512_and_ps(_mm512_loadu_ps(x + 16 * i), sign_mask);
      const auto hit = static_cast<uint32_t>(_mm512_cmp_ps_mask(ax, vamax, _CMP_EQ_OQ));
      if (hit != 0) {
        max = x[16 * i + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = amax != 0 ? -127.f / max : 0.f;
    BlockQ8_K block;
    if (!std::isfinite(iscale) || iscale == 0) {
      std::memset(&block, 0, sizeof(block));
    } else {
      const __m512 vscale = _mm512_set1_ps(iscale);
      for (int i = 0; i < 16; ++i) {
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(vscale, _mm512_loadu_ps(x + 16 * i)));
        q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(-128)), _mm512_set1_epi32(127));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(block.qs + 16 * i), _mm512_cvtepi32_epi8(q));
        block.bsums[i] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      }
      block.d = 1 / iscale;
    }
    std::memcpy(&y[b], &block, sizeof(block));
  }
}

// ---- shared tile plumbing -----------------------------------------------------------------

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Output of a tile: the 16 f32 lanes of each accumulator summed.
template <int R, int T>
void store_tile(const GemmArgs& g, int64_t r0, int64_t c0, const __m512 (&acc)[R][T]) {
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) g.out[(c0 + t) * g.out_stride + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// Runs a (R x T) tile function over the whole (n_rows x n_cols) problem. Tokens outer so a token
// group's activations stay in L1 while the rows (whose weights the caller keeps in L2) stream by.
// Decode and token remainders use 4-row tiles; groups of 4 tokens use 2-row tiles (register budget).
template <template <int, int> class Tile>
void gemm_tiles(const GemmArgs& g) {
  int64_t c0 = 0;
  for (; c0 + 4 <= g.n_cols; c0 += 4) {
    int64_t r0 = 0;
    for (; r0 + 2 <= g.n_rows; r0 += 2) Tile<2, 4>::run(g, r0, c0);
    if (r0 < g.n_rows) Tile<1, 4>::run(g, r0, c0);
  }
  const int64_t rest = g.n_cols - c0;
  if (rest == 0) return;
  const auto rows = [&](auto full, auto one) {
    int64_t r0 = 0;
    for (; r0 + 4 <= g.n_rows; r0 += 4) full(r0);
    for (; r0 < g.n_rows; ++r0) one(r0);
  };
  switch (rest) {
    case 1:
      rows([&](int64_t r0) { Tile<4, 1>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 1>::run(g, r0, c0); });
      break;
    case 2:
      rows([&](int64_t r0) { Tile<4, 2>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 2>::run(g, r0, c0); });
      break;
    default:
      rows([&](int64_t r0) { Tile<4, 3>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 3>::run(g, r0, c0); });
      break;
  }
}

// ---- q4_K and q5_K ------------------------------------------------------------------------

// Scales and mins of one q4_K/q5_K super-block: `sc` holds the 8 six-bit scales as int16 in every
// 128-bit lane (for VPSHUFB), `mins` the 8 mins as int16, each twice (one per bsum of 16).
struct ScalesMins {
  __m512i sc;
  __m256i mins;
};

ScalesMins unpack_scales_mins(const uint8_t* scales) {
  // 12 bytes: bytes 0-3 low 6 bits = sc0-3, bytes 4-7 low 6 bits = m0-3, bytes 8-11 nibbles =
  // low 4 bits of sc4-7 / m4-7, whose top 2 bits are the top bits of bytes 0-3 / 4-7.
  uint32_t u[3];
  std::memcpy(u, scales, sizeof(u));
  const uint32_t sc_lo = u[0] & 0x3f3f3f3f;
  const uint32_t m_lo = u[1] & 0x3f3f3f3f;
  const uint32_t sc_hi = (u[2] & 0x0f0f0f0f) | ((u[0] >> 6) & 0x03030303) << 4;
  const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0f) | ((u[1] >> 6) & 0x03030303) << 4;
  const __m128i sc8 = _mm_set_epi32(0, 0, static_cast<int>(sc_hi), static_cast<int>(sc_lo));
  const __m128i m8 = _mm_set_epi32(0, 0, static_cast<int>(m_hi), static_cast<int>(m_lo));
  return {_mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sc8)), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8))};
}

// VPSHUFB controls that spread scale 2p over the low 256 bits and 2p + 1 over the high 256 bits.
__m512i scale_pair_control(int p) {
  const auto lo = static_cast<int16_t>((4 * p + 1) << 8 | 4 * p);
  const auto hi = static_cast<int16_t>((4 * p + 3) << 8 | (4 * p + 2));
  return _mm512_inserti64x4(_mm512_set1_epi16(lo), _mm256_set1_epi16(hi), 1);
}

template <bool kQ5>
struct K4 {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;

  template <int R, int T>
  struct Tile {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const Block* w[R];
      const BlockQ8_K* a[T];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      // Low 256 bits: low nibbles (sub-block 2p); high 256 bits: high nibbles (2p + 1).
      const __m512i nibble_shift = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
      const __m512i low4 = _mm512_set1_epi8(0x0f);
      const __m512i bit4 = _mm512_set1_epi8(0x10);
      __m512i ctl[4];
      for (int p = 0; p < 4; ++p) ctl[p] = scale_pair_control(p);

      __m512 acc[R][T];
      for (auto& row : acc) {
        for (auto& v : row) v = _mm512_setzero_ps();
      }
      for (int64_t b = 0; b < nb; ++b) {
        ScalesMins sm[R];
        __m512i qh[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          _mm_prefetch(reinterpret_cast<const char*>(w[r] + b + kPrefetchBlocks), _MM_HINT_T0);
          sm[r] = unpack_scales_mins(w[r][b].scales);
          if constexpr (kQ5) qh[r] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh)));
        }
        __m512i sumi[R][T];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) sumi[r][t] = _mm512_setzero_si512();
        }
#pragma GCC unroll 4
        for (int p = 0; p < 4; ++p) {
          __m512i q[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m512i raw =
                _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qs + 32 * p)));
            q[r] = _mm512_and_si512(_mm512_srlv_epi64(raw, nibble_shift), low4);
            if constexpr (kQ5) {
              // Bit 2p (low half) / 2p + 1 (high half) of qh[l] moves to bit 4 by a 64-bit rotate:
              // the rotate never carries a wanted bit across its byte.
              const __m512i rot = _mm512_set_epi64(3 - 2 * p, 3 - 2 * p, 3 - 2 * p, 3 - 2 * p, 4 - 2 * p, 4 - 2 * p,
                                                   4 - 2 * p, 4 - 2 * p);
              q[r] = _mm512_ternarylogic_epi32(q[r], _mm512_rolv_epi64(qh[r], rot), bit4, 0xf8);  // q | (x & bit4)
            }
            s[r] = _mm512_shuffle_epi8(sm[r].sc, ctl[p]);
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m512i av = _mm512_loadu_si512(a[t][b].qs + 64 * p);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_maddubs_epi16(q[r], av), s[r]);
            }
          }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const float da = a[t][b].d;
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums));
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m512i summ = _mm512_zextsi256_si512(_mm256_madd_epi16(bsums, sm[r].mins));
            const float d = half_to_float(w[r][b].d) * da;
            const float dmin = half_to_float(w[r][b].dmin) * da;
            acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[r][t]), _mm512_set1_ps(d), acc[r][t]);
            acc[r][t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_set1_ps(dmin), acc[r][t]);
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

// VPERMW indices putting scale j = 4i + n (n = 0..3) into every int16 of 128-bit lane n, for the
// 64 weights i (of 4) of a super-block: 4 sub-blocks of 16.
__m512i q6_scale_index(int i) {
  constexpr int64_t kLane = 0x0001000100010001LL;  // 1 in each int16 of a 64-bit lane
  const __m512i lane = _mm512_set_epi64(3 * kLane, 3 * kLane, 2 * kLane, 2 * kLane, kLane, kLane, 0, 0);
  return _mm512_add_epi16(lane, _mm512_set1_epi16(static_cast<int16_t>(4 * i)));
}

template <int R, int T>
struct Q6KTile {
  static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
    const int64_t nb = g.k / kSuperBlockSize;
    const BlockQ6_K* w[R];
    const BlockQ8_K* a[T];
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ6_K*>(g.w + (r0 + r) * g.w_stride);
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i bits45 = _mm512_set1_epi8(0x30);
    // Top two bits of group g (0..3) sit at bits 2g, 2g+1 of qh; move them to bits 4, 5.
    const __m512i hi_shift_01 = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4);  // left: g = 0 | g = 1
    const __m512i hi_shift_23 = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);  // right: g = 2 | g = 3
    __m512i idx[4];
    for (int i = 0; i < 4; ++i) idx[i] = q6_scale_index(i);

    __m512 acc[R][T];
    for (auto& row : acc) {
      for (auto& v : row) v = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < nb; ++b) {
      __m512i sc[R];
      __m512i offset[R];  // -32 * scale as int16, for the bsums
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w[r] + b + kPrefetchBlocks), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(w[r] + b + kPrefetchBlocks) + 64 * 3, _MM_HINT_T0);
        const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales)));
        sc[r] = _mm512_castsi256_si512(s16);
        offset[r] = _mm512_zextsi256_si512(_mm256_mullo_epi16(s16, _mm256_set1_epi16(-32)));
      }
      __m512i sumi[R][T];
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512i bsums = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums)));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) sumi[r][t] = _mm512_madd_epi16(bsums, offset[r]);
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        __m512i ql[R], qh[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          ql[r] = _mm512_loadu_si512(w[r][b].ql + 64 * h);
          qh[r] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh + 32 * h)));
        }
#pragma GCC unroll 2
        for (int u = 0; u < 2; ++u) {
          // Groups 2u, 2u + 1 of this half: 64 weights, activations 128h + 64u.
          __m512i q[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            if (u == 0) {
              q[r] = _mm512_ternarylogic_epi32(_mm512_and_si512(ql[r], low4), _mm512_sllv_epi64(qh[r], hi_shift_01),
                                               bits45, 0xf8);
            } else {
              q[r] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql[r], 4), low4),
                                               _mm512_srlv_epi64(qh[r], hi_shift_23), bits45, 0xf8);
            }
            s[r] = _mm512_permutexvar_epi16(idx[2 * h + u], sc[r]);
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m512i av = _mm512_loadu_si512(a[t][b].qs + 128 * h + 64 * u);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_maddubs_epi16(q[r], av), s[r]);
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
          acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[r][t]), _mm512_set1_ps(d), acc[r][t]);
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

void fill_avx512_kquants(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q4_K};
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q5_K};
  t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q6_K};
}

}  // namespace rf::cpu
