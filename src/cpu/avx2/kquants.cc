// q4_K, q5_K and q6_K weight kernels for AVX2: q8_K activations, rows x tokens register tiles.
//
// Per 32 weights of one row and one token: VPMADDUBSW (unsigned quants x signed activations -> 16
// int16 pair sums, at most 2 * 63 * 128 < 2^15), VPMADDWD with the sub-block scale as int16, VPADDD
// (-> 8 int32 lanes). A super-block's int32 lanes become f32 once, times d_w * d_a. The q4_K/q5_K
// mins multiply the activation's bsums (VPMADDWD); q6_K's offset of -32 is folded the same way
// (-32 * scale * bsum) into the integer sum, as ggml does.
// With 16 ymm registers a tile holds R x T <= 4 (int32 + f32 accumulators each): one row x 4
// tokens for prefill (weights unpacked once per 4 tokens), 4 rows x 1 token for decode.
#include <immintrin.h>

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

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The scalar quantizer's steps, 8 lanes at a time: the first element of largest magnitude sets
// iscale = -127 / max; q = round-to-nearest-even(x * iscale); d = 1 / iscale.
void quantize_act_q8_K(const float* x, uint8_t* out, int64_t k) {
  auto* y = reinterpret_cast<BlockQ8_K*>(out);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < k / kSuperBlockSize; ++b, x += kSuperBlockSize) {
    __m256 vmax = _mm256_setzero_ps();
    for (int i = 0; i < 32; ++i) {
      // MAXPS returns its second operand when either is NaN: NaN inputs are skipped, as in scalar.
      vmax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + 8 * i), abs_mask), vmax);
    }
    const float amax = hmax(vmax);
    float max = 0;
    const __m256 vamax = _mm256_set1_ps(amax);
    for (int i = 0; i < 32 && amax != 0; ++i) {
      const __m256 ax = _mm256_and_ps(_mm256_loadu_ps(x + 8 * i), abs_mask);
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(ax, vamax, _CMP_EQ_OQ));
      if (hit != 0) {
        max = x[8 * i + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = amax != 0 ? -127.f / max : 0.f;
    BlockQ8_K block;
    if (!std::isfinite(iscale) || iscale == 0) {
      std::memset(&block, 0, sizeof(block));
    } else {
      const __m256 vscale = _mm256_set1_ps(iscale);
      for (int i = 0; i < 16; ++i) {
        // 16 values: two vectors of 8 int32, clamped, packed to int8 (packs keep element order
        // within 128-bit lanes; the permute restores it).
        __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + 16 * i)));
        __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + 16 * i + 8)));
        q0 = _mm256_min_epi32(_mm256_max_epi32(q0, _mm256_set1_epi32(-128)), _mm256_set1_epi32(127));
        q1 = _mm256_min_epi32(_mm256_max_epi32(q1, _mm256_set1_epi32(-128)), _mm256_set1_epi32(127));
        block.bsums[i] = static_cast<int16_t>(hsum_epi32(_mm256_add_epi32(q0, q1)));
        const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xd8);
        const __m128i w8 = _mm_packs_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(block.qs + 16 * i), w8);
      }
      block.d = 1 / iscale;
    }
    std::memcpy(&y[b], &block, sizeof(block));
  }
}

// ---- shared tile plumbing -----------------------------------------------------------------

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Every cache line that weight block b + kPrefetchBlocks of a row may touch (blocks are 144-210
// bytes at any alignment). The address is computed as an integer: it may lie past the row's end,
// where a prefetch is harmless but pointer arithmetic is not.
template <class Block>
void prefetch_ahead(const Block* row, int64_t b) {
  const uintptr_t first =
      reinterpret_cast<uintptr_t>(row) + static_cast<uintptr_t>(b + kPrefetchBlocks) * sizeof(Block);
  for (uintptr_t line = first; line < first + sizeof(Block) + 63; line += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
  }
}

template <int R, int T>
void store_tile(const GemmArgs& g, int64_t r0, int64_t c0, const __m256 (&acc)[R][T]) {
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) g.out[(c0 + t) * g.out_stride + r0 + r] = hsum_ps(acc[r][t]);
  }
}

// Runs tiles over the (n_rows x n_cols) problem, tokens outer so a token group's activations stay
// in L1 while the rows stream by: 1 x 4 tiles, then the token remainder as 1 x 3, 2 x 2 or 4 x 1.
template <template <int, int> class Tile>
void gemm_tiles(const GemmArgs& g) {
  int64_t c0 = 0;
  for (; c0 + 4 <= g.n_cols; c0 += 4) {
    for (int64_t r0 = 0; r0 < g.n_rows; ++r0) Tile<1, 4>::run(g, r0, c0);
  }
  int64_t r0 = 0;
  switch (g.n_cols - c0) {
    case 0: return;
    case 1:
      for (; r0 + 4 <= g.n_rows; r0 += 4) Tile<4, 1>::run(g, r0, c0);
      for (; r0 < g.n_rows; ++r0) Tile<1, 1>::run(g, r0, c0);
      return;
    case 2:
      for (; r0 + 2 <= g.n_rows; r0 += 2) Tile<2, 2>::run(g, r0, c0);
      if (r0 < g.n_rows) Tile<1, 2>::run(g, r0, c0);
      return;
    default:
      for (; r0 < g.n_rows; ++r0) Tile<1, 3>::run(g, r0, c0);
      return;
  }
}

// ---- q4_K and q5_K ------------------------------------------------------------------------

// Scales and mins of one q4_K/q5_K super-block: `sc` holds the 8 six-bit scales as int16 in both
// 128-bit lanes (for VPSHUFB), `mins` the 8 mins as int16, each twice (one per bsum of 16).
struct ScalesMins {
  __m256i sc;
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
  return {_mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sc8)), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8))};
}

// VPSHUFB control that spreads int16 scale s over all 16 int16 lanes.
__m256i scale_control(int s) { return _mm256_set1_epi16(static_cast<int16_t>((2 * s + 1) << 8 | 2 * s)); }

template <bool kQ5>
struct K4 {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;

  // Quants of sub-block s (32 bytes, unsigned 0..15 or 0..31) from its pair's 32 qs bytes.
  static __m256i quants(__m256i raw, __m256i qh, int s) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i q = _mm256_and_si256(s % 2 == 0 ? raw : _mm256_srli_epi16(raw, 4), low4);
    if constexpr (kQ5) {
      // Bit s of qh[l] to bit 4: the 16-bit shift never carries a wanted bit across its byte.
      const __m256i bit = s <= 4 ? _mm256_slli_epi16(qh, 4 - s) : _mm256_srli_epi16(qh, s - 4);
      q = _mm256_or_si256(q, _mm256_and_si256(bit, _mm256_set1_epi8(0x10)));
    }
    return q;
  }

  template <int R, int T>
  struct Tile {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const Block* w[R];
      const BlockQ8_K* a[T];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);

      __m256 acc[R][T];
      for (auto& row : acc) {
        for (auto& v : row) v = _mm256_setzero_ps();
      }
      for (int64_t b = 0; b < nb; ++b) {
        ScalesMins sm[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          prefetch_ahead(w[r], b);
          sm[r] = unpack_scales_mins(w[r][b].scales);
        }
        __m256i sumi[R][T];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) sumi[r][t] = _mm256_setzero_si256();
        }
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
          __m256i q[R], sc[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qs + 32 * (s / 2)));
            __m256i qh = _mm256_setzero_si256();
            if constexpr (kQ5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh));
            q[r] = quants(raw, qh, s);
            sc[r] = _mm256_shuffle_epi8(sm[r].sc, scale_control(s));
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].qs + 32 * s));
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              sumi[r][t] = _mm256_add_epi32(sumi[r][t], _mm256_madd_epi16(_mm256_maddubs_epi16(q[r], av), sc[r]));
            }
          }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const float da = a[t][b].d;
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums));
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m256i summ = _mm256_madd_epi16(bsums, sm[r].mins);
            const float d = half_to_float(w[r][b].d) * da;
            const float dmin = half_to_float(w[r][b].dmin) * da;
            acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[r][t]), _mm256_set1_ps(d), acc[r][t]);
            acc[r][t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(summ), _mm256_set1_ps(dmin), acc[r][t]);
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
  // Quants of group g (0..3) of a half: low nibbles from ql[32 (g & 1)], top bits 2g of qh.
  static __m256i quants(__m256i ql, __m256i qh, int g) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(g < 2 ? ql : _mm256_srli_epi16(ql, 4), low4);
    const __m256i hi = g == 0 ? _mm256_slli_epi16(qh, 4) : g == 1 ? _mm256_slli_epi16(qh, 2)
                               : g == 2 ? qh : _mm256_srli_epi16(qh, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hi, _mm256_set1_epi8(0x30)));
  }

  static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
    const int64_t nb = g.k / kSuperBlockSize;
    const BlockQ6_K* w[R];
    const BlockQ8_K* a[T];
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ6_K*>(g.w + (r0 + r) * g.w_stride);
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);

    __m256 acc[R][T];
    for (auto& row : acc) {
      for (auto& v : row) v = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < nb; ++b) {
      __m256i sumi[R][T];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w[r], b);
        const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales)));
        const __m256i offset = _mm256_mullo_epi16(s16, _mm256_set1_epi16(-32));  // -32 * scale per bsum
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          sumi[r][t] = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums)), offset);
        }
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int gr = 0; gr < 4; ++gr) {
          // Group gr of half h: sub-blocks j = 8h + 2gr (low 128 bits) and j + 1 (high 128 bits).
          const __m256i ctl = _mm256_setr_epi8(
              static_cast<char>(4 * gr), static_cast<char>(4 * gr + 1), static_cast<char>(4 * gr),
              static_cast<char>(4 * gr + 1), static_cast<char>(4 * gr), static_cast<char>(4 * gr + 1),
              static_cast<char>(4 * gr), static_cast<char>(4 * gr + 1), static_cast<char>(4 * gr),
              static_cast<char>(4 * gr + 1), static_cast<char>(4 * gr), static_cast<char>(4 * gr + 1),
              static_cast<char>(4 * gr), static_cast<char>(4 * gr + 1), static_cast<char>(4 * gr),
              static_cast<char>(4 * gr + 1), static_cast<char>(4 * gr + 2), static_cast<char>(4 * gr + 3),
              static_cast<char>(4 * gr + 2), static_cast<char>(4 * gr + 3), static_cast<char>(4 * gr + 2),
              static_cast<char>(4 * gr + 3), static_cast<char>(4 * gr + 2), static_cast<char>(4 * gr + 3),
              static_cast<char>(4 * gr + 2), static_cast<char>(4 * gr + 3), static_cast<char>(4 * gr + 2),
              static_cast<char>(4 * gr + 3), static_cast<char>(4 * gr + 2), static_cast<char>(4 * gr + 3),
              static_cast<char>(4 * gr + 2), static_cast<char>(4 * gr + 3));
          __m256i q[R], sc[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m256i ql =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].ql + 64 * h + 32 * (gr & 1)));
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh + 32 * h));
            q[r] = quants(ql, qh, gr);
            // The half's 8 scales as int16 in both 128-bit lanes; VPSHUFB picks 2gr / 2gr + 1.
            const __m128i s8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w[r][b].scales + 8 * h));
            sc[r] = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(s8)), ctl);
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].qs + 128 * h + 32 * gr));
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              sumi[r][t] = _mm256_add_epi32(sumi[r][t], _mm256_madd_epi16(_mm256_maddubs_epi16(q[r], av), sc[r]));
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
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[r][t]), _mm256_set1_ps(d), acc[r][t]);
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

void fill_avx2_kquants(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q4_K};
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q5_K};
  t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q6_K};
}

}  // namespace rf::cpu
