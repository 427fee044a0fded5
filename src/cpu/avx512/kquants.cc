// q4_K, q5_K and q6_K weight kernels for AVX-512 VNNI: q8_K activations, rows x tokens register tiles.
//
// Per 128 weights of one row and one token: two VPDPBUSD (unsigned quants x signed activations, 4
// products per int32 lane, at most 4 * 63 * 128 < 2^15), VPACKSSDW (exact: both to int16), VPDPWSSD
// with the sub-block scales as int16 (-> 16 int32 lanes). A super-block's int32 sum becomes f32 once,
// times d_w * d_a. The q4_K/q5_K mins multiply the activation's bsums (VPMADDWD); q6_K's offset of -32
// is folded the same way (-32 * scale * bsum) into the integer sum, as ggml does.
// A tile holds R rows x T tokens of int32 sums: weights are unpacked once per tile and reused for T
// tokens, activations reused for R rows. Prefill uses 2 x 8 tiles whose sums are reduced across lanes
// to 4 per token before the f32 work; decode streams 4 rows per pass.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

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

// Narrow tiles (T <= 4) keep one 16-lane f32 accumulator per (row, token). Wide tiles (T = 8) first
// sum each token's 16 int32 lanes down to 4, so a row needs two accumulators whose 128-bit lane j
// holds token 4h + j: fewer f32 operations per token and registers for twice the tokens.
template <int T>
constexpr int kAccVecs = T == 8 ? 2 : T;

// v[h], 128-bit lane j = the 16 int32 lanes of s[4h + j] summed to 4 (two rounds of lane shuffles).
void reduce_tokens8(const __m512i (&s)[8], __m512i (&v)[2]) {
  __m512i u[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // lanes 0-1: token 2i, lanes 2-3: token 2i + 1
    u[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(s[2 * i], s[2 * i + 1], 0x44),
                            _mm512_shuffle_i64x2(s[2 * i], s[2 * i + 1], 0xee));
  }
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    v[h] = _mm512_add_epi32(_mm512_shuffle_i64x2(u[2 * h], u[2 * h + 1], 0x88),
                            _mm512_shuffle_i64x2(u[2 * h], u[2 * h + 1], 0xdd));
  }
}

// The activation scales of 8 tokens' super-block b, as reduce_tokens8 lays tokens out: lane j of
// da[h] (4 copies) = d of token 4h + j. `offsets` are the tokens' byte offsets from token 0.
void token_scales8(const uint8_t* a0, __m256i offsets, int64_t b, __m512 (&da)[2]) {
  const __m256 d8 = _mm256_i32gather_ps(reinterpret_cast<const float*>(a0 + b * sizeof(BlockQ8_K)), offsets, 1);
  const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  da[0] = _mm512_permutexvar_ps(spread, _mm512_castps256_ps512(d8));
  da[1] = _mm512_permutexvar_ps(_mm512_add_epi32(spread, _mm512_set1_epi32(4)), _mm512_castps256_ps512(d8));
}

// Output of a tile: narrow accumulators summed over 16 lanes, wide ones over each 128-bit lane.
template <int R, int T>
void store_tile(const GemmArgs& g, int64_t r0, int64_t c0, const __m512 (&acc)[R][kAccVecs<T>]) {
  for (int r = 0; r < R; ++r) {
    if constexpr (T == 8) {
      for (int h = 0; h < 2; ++h) {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, acc[r][h]);
        for (int j = 0; j < 4; ++j) {
          g.out[(c0 + 4 * h + j) * g.out_stride + r0 + r] =
              (lanes[4 * j] + lanes[4 * j + 1]) + (lanes[4 * j + 2] + lanes[4 * j + 3]);
        }
      }
    } else {
      for (int t = 0; t < T; ++t) g.out[(c0 + t) * g.out_stride + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
    }
  }
}

// Runs (R x T) tiles over the whole (n_rows x n_cols) problem. Tokens outer so a token group's
// activations stay in L1 while the rows (whose weights the driver keeps in L2) stream by:
// 2 x 8 tiles, then a remainder of 4 tokens as 2 x 4, then 1-3 tokens as 4 x 1-3 (decode: 4 x 1).
template <template <int, int> class Tile>
void gemm_tiles(const GemmArgs& g) {
  // Wide tiles gather activation scales with 32-bit offsets (7 * a_stride, i.e. k < ~60M).
  const bool wide = g.a_stride <= (uint64_t{1} << 28);
  int64_t c0 = 0;
  const auto rows2 = [&](auto two, auto one) {
    int64_t r0 = 0;
    for (; r0 + 2 <= g.n_rows; r0 += 2) two(r0);
    if (r0 < g.n_rows) one(r0);
  };
  for (; wide && c0 + 8 <= g.n_cols; c0 += 8) {
    rows2([&](int64_t r0) { Tile<2, 8>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 8>::run(g, r0, c0); });
  }
  for (; c0 + 4 <= g.n_cols; c0 += 4) {
    rows2([&](int64_t r0) { Tile<2, 4>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 4>::run(g, r0, c0); });
  }
  const auto rows4 = [&](auto four, auto one) {
    int64_t r0 = 0;
    for (; r0 + 4 <= g.n_rows; r0 += 4) four(r0);
    for (; r0 < g.n_rows; ++r0) one(r0);
  };
  switch (g.n_cols - c0) {
    case 0: return;
    case 1:
      rows4([&](int64_t r0) { Tile<4, 1>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 1>::run(g, r0, c0); });
      return;
    case 2:
      rows4([&](int64_t r0) { Tile<4, 2>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 2>::run(g, r0, c0); });
      return;
    default:
      rows4([&](int64_t r0) { Tile<4, 3>::run(g, r0, c0); }, [&](int64_t r0) { Tile<1, 3>::run(g, r0, c0); });
      return;
  }
}

// ---- q4_K and q5_K ------------------------------------------------------------------------

// Scales and mins of one q4_K/q5_K super-block, as int16: `sc` = the 8 scales in every 128-bit lane
// (for VPSHUFB), `mins8` = the 8 mins in every 128-bit lane, `mins` = each min twice (one per bsum).
struct ScalesMins {
  __m512i sc;
  __m512i mins8;
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
  return {_mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sc8)), _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(m8)),
          _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8))};
}

// VPSHUFB control for the scales of sub-blocks 4q .. 4q + 3 in the layout VPACKSSDW leaves their sums
// in (see K4): 128-bit lanes 0-1 = [4q x4, 4q + 2 x4], lanes 2-3 = [4q + 1 x4, 4q + 3 x4] (int16).
__m512i scale_quad_control(int q) {
  const auto pair = [](int lo, int hi) {
    const auto idx = [](int s) { return static_cast<int16_t>((2 * s + 1) << 8 | 2 * s); };  // bytes of int16 s
    return _mm256_broadcastsi128_si256(
        _mm_set_epi16(idx(hi), idx(hi), idx(hi), idx(hi), idx(lo), idx(lo), idx(lo), idx(lo)));
  };
  return _mm512_inserti64x4(_mm512_castsi256_si512(pair(4 * q, 4 * q + 2)), pair(4 * q + 1, 4 * q + 3), 1);
}

// The 8 sub-block sums (adjacent bsums added) of tokens 4h .. 4h + 3 as int16, 128-bit lane j =
// token 4h + j, the layout of reduce_tokens8.
void sub_block_sums8(const BlockQ8_K* const (&a)[8], int64_t b, __m512i (&sums)[2]) {
  const __m512i ones = _mm512_set1_epi16(1);
  const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  const auto pair = [&](int t) {  // tokens t, t + 1: 8 int32 each
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t + 1][b].bsums));
    return _mm512_madd_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), ones);
  };
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    // VPACKSSDW interleaves 64-bit halves of tokens 4h / 4h + 2 and 4h + 1 / 4h + 3; VPERMQ sorts them.
    sums[h] = _mm512_permutexvar_epi64(order, _mm512_packs_epi32(pair(4 * h), pair(4 * h + 2)));
  }
}

template <bool kQ5>
struct K4 {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;

  // The 64 quants of weights 64p .. 64p + 63 (sub-blocks 2p, 2p + 1) as bytes: low nibbles of
  // qs[32p ..] in the low 256 bits, high nibbles in the high 256 bits; q5_K adds bit 2p / 2p + 1 of
  // qh[l] as bit 4, moved there by a 64-bit rotate that never carries a wanted bit across its byte.
  static __m512i quants(const Block& x, __m512i qh, int p) {
    const __m512i raw =
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * p)));
    const __m512i q = _mm512_and_si512(_mm512_srlv_epi64(raw, _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0)),
                                       _mm512_set1_epi8(0x0f));
    if constexpr (!kQ5) return q;
    const __m512i rot =
        _mm512_set_epi64(3 - 2 * p, 3 - 2 * p, 3 - 2 * p, 3 - 2 * p, 4 - 2 * p, 4 - 2 * p, 4 - 2 * p, 4 - 2 * p);
    return _mm512_ternarylogic_epi32(q, _mm512_rolv_epi64(qh, rot), _mm512_set1_epi8(0x10), 0xf8);  // q | (x & bit4)
  }

  template <int R, int T>
  struct Tile {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const Block* w[R];
      const BlockQ8_K* a[T];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      const __m256i a_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                   _mm256_set1_epi32(static_cast<int>(g.a_stride)));

      __m512 acc[R][kAccVecs<T>];
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
          qh[r] = _mm512_setzero_si512();
          if constexpr (kQ5) qh[r] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh)));
        }
        __m512i sumi[R][T];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) sumi[r][t] = _mm512_setzero_si512();
        }
        // Two rounds of two 64-weight groups p = 2q, 2q + 1 (sub-blocks 4q .. 4q + 3). VPDPBUSD sums 4
        // products per int32 lane (at most 4 * 31 * 128 < 2^15), VPACKSSDW packs both groups' lanes to
        // int16 exactly, VPDPWSSD multiplies them by the sub-block scales: 3 multiplies per 128 weights.
#pragma GCC unroll 2
        for (int q = 0; q < 2; ++q) {
          __m512i w0[R], w1[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            w0[r] = quants(w[r][b], qh[r], 2 * q);
            w1[r] = quants(w[r][b], qh[r], 2 * q + 1);
            s[r] = _mm512_shuffle_epi8(sm[r].sc, scale_quad_control(q));
          }
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const __m512i a0 = _mm512_loadu_si512(a[t][b].qs + 128 * q);
            const __m512i a1 = _mm512_loadu_si512(a[t][b].qs + 128 * q + 64);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              const __m512i x0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0[r], a0);
              const __m512i x1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1[r], a1);
              sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_packs_epi32(x0, x1), s[r]);
            }
          }
        }
        if constexpr (T == 8) {
          __m512 da[2];
          __m512i bs[2];
          token_scales8(g.a + c0 * g.a_stride, a_offsets, b, da);
          sub_block_sums8(a, b, bs);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            __m512i v[2];
            reduce_tokens8(sumi[r], v);
            const __m512 d = _mm512_set1_ps(half_to_float(w[r][b].d));
            const __m512 dmin = _mm512_set1_ps(half_to_float(w[r][b].dmin));
#pragma GCC unroll 2
            for (int h = 0; h < 2; ++h) {
              const __m512 m = _mm512_cvtepi32_ps(_mm512_madd_epi16(bs[h], sm[r].mins8));
              const __m512 x = _mm512_fnmadd_ps(m, dmin, _mm512_mul_ps(_mm512_cvtepi32_ps(v[h]), d));
              acc[r][h] = _mm512_fmadd_ps(x, da[h], acc[r][h]);
            }
          }
        } else {
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

// VPERMW indices for the scales of half h's sub-blocks (16 weights each) in the layout VPACKSSDW
// leaves their sums in: 128-bit lane n = [8h + n x4, 8h + 4 + n x4] (int16).
__m512i q6_scale_index(int h) {
  constexpr int64_t kRep = 0x0001000100010001LL;  // an int16 value repeated 4 times
  const auto lane = [&](int n) { return std::pair<int64_t, int64_t>{(8 * h + n) * kRep, (8 * h + 4 + n) * kRep}; };
  const auto [l0, h0] = lane(0);
  const auto [l1, h1] = lane(1);
  const auto [l2, h2] = lane(2);
  const auto [l3, h3] = lane(3);
  return _mm512_set_epi64(h3, l3, h2, l2, h1, l1, h0, l0);
}

template <int R, int T>
struct Q6KTile {
  static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
    const int64_t nb = g.k / kSuperBlockSize;
    const BlockQ6_K* w[R];
    const BlockQ8_K* a[T];
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ6_K*>(g.w + (r0 + r) * g.w_stride);
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
    const __m256i a_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                 _mm256_set1_epi32(static_cast<int>(g.a_stride)));
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i bits45 = _mm512_set1_epi8(0x30);
    // Top two bits of group g (0..3) sit at bits 2g, 2g+1 of qh; move them to bits 4, 5.
    const __m512i hi_shift_01 = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4);  // left: g = 0 | g = 1
    const __m512i hi_shift_23 = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);  // right: g = 2 | g = 3

    __m512 acc[R][kAccVecs<T>];
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
#pragma GCC unroll 8
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
        // Weights 128h .. 128h + 63 (u = 0: groups 0, 1) and 128h + 64 .. 128h + 127 (u = 1: groups 2,
        // 3), 6-bit unsigned. VPDPBUSD sums 4 products per int32 lane (at most 4 * 63 * 128 < 2^15),
        // VPACKSSDW packs both to int16 exactly, VPDPWSSD multiplies by the sub-block scales.
        __m512i q0[R], q1[R], s[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          q0[r] = _mm512_ternarylogic_epi32(_mm512_and_si512(ql[r], low4), _mm512_sllv_epi64(qh[r], hi_shift_01),
                                            bits45, 0xf8);
          q1[r] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql[r], 4), low4),
                                            _mm512_srlv_epi64(qh[r], hi_shift_23), bits45, 0xf8);
          s[r] = _mm512_permutexvar_epi16(q6_scale_index(h), sc[r]);
        }
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const __m512i a0 = _mm512_loadu_si512(a[t][b].qs + 128 * h);
          const __m512i a1 = _mm512_loadu_si512(a[t][b].qs + 128 * h + 64);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m512i x0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q0[r], a0);
            const __m512i x1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q1[r], a1);
            sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_packs_epi32(x0, x1), s[r]);
          }
        }
      }
      if constexpr (T == 8) {
        __m512 da[2];
        token_scales8(g.a + c0 * g.a_stride, a_offsets, b, da);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          __m512i v[2];
          reduce_tokens8(sumi[r], v);
          const __m512 d = _mm512_set1_ps(half_to_float(w[r][b].d));
#pragma GCC unroll 2
          for (int h = 0; h < 2; ++h) {
            acc[r][h] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(v[h]), d), da[h], acc[r][h]);
          }
        }
      } else {
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
