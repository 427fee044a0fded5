// q4_K, q5_K and q6_K weight kernels for AVX-512 VNNI: q8_K activations, rows x tokens register tiles.
//
// Integer core, per 64 weights of one sub-block pair and two tokens (or two sub-block pairs and one
// token): two VPDPBUSD (unsigned quants x signed activations, 4 products per int32 lane, at most
// 4 * 63 * 128 < 2^15), VPACKSSDW (exact: both to int16), VPDPWSSD with the sub-block scales as
// int16. A super-block's int32 sum becomes f32 once, times d_w * d_a. The q4_K/q5_K mins multiply the
// activation's bsums (VPMADDWD); q6_K's offset of -32 is folded the same way (-32 * scale * bsum)
// into the integer sum, as ggml does.
// Prefill: "wide" tiles of R = 4 rows x 8 tokens. Packing two tokens' sums into one register halves
// the accumulators (16 for the tile) and leaves each token's sum in 2 lanes after one cross-lane
// reduction per row, so the per-super-block f32 work is a handful of instructions per row.
// k-quant prefill over 16-row x 8-token groups runs K4Rows16 / Q6Rows16 instead (rows unpacked
// once per call).
// Decode and token remainders: "narrow" tiles of R rows x T <= 4 tokens, one accumulator per (row,
// token); decode streams 4 rows per pass.
// All of the above reads the file's layout. Weights repacked at load (cpu/repack.h, the default)
// take the interleaved kernels at the end instead: Rows16's tokens8 for groups of 8 tokens, the
// same float steps from registers for fewer, so results do not depend on the batch.
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Super-blocks ahead to prefetch on each weight row: one-token decode streams 4 rows at once, and
// the hardware prefetcher alone left a thread at ~2/3 of its read bandwidth.
constexpr int kPrefetchBlocks = 8;

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

// VPDPBUSD into a fresh zero. GCC 12 copies one shared zero register for each (a real instruction
// per product), so for GCC it is written as the zeroing idiom VPXORD, which the renamer resolves
// without executing: q6_K tiles +11%. Clang emits the idiom itself (and schedules the asm worse).
__m512i dpbusd0(__m512i q, __m512i a) {
#if defined(__clang__)
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, a);
#else
  __m512i x;
  asm("vpxord %0, %0, %0\n\tvpdpbusd %2, %1, %0" : "=&v"(x) : "v"(q), "vm"(a));
  return x;
#endif
}

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

// Narrow tiles stream R rows at once: R short streams the hardware prefetchers follow poorly. The
// next R rows (this thread's next pass, or the first rows of its next 16-row tile when decoding) are
// one contiguous range, prefetched in step with the super-blocks, as the legacy kernels do.
struct RangePrefetch {
  uintptr_t base;  // may lie past the matrix: a prefetch there is harmless, pointer arithmetic is not
  int64_t lines;
  int64_t per_block;  // lines per super-block, rounded up (no division in the loop)
  int64_t next = 0;

  RangePrefetch(const GemmArgs& g, int64_t r0, int rows)
      : base(reinterpret_cast<uintptr_t>(g.w) + static_cast<uintptr_t>(r0 + rows) * g.w_stride),
        lines(static_cast<int64_t>((static_cast<uint64_t>(rows) * g.w_stride + 63) / 64)),
        per_block((lines + g.k / kSuperBlockSize - 1) / (g.k / kSuperBlockSize)) {}

  // The next lines, once per super-block.
  void step() {
    for (const int64_t end = next + per_block < lines ? next + per_block : lines; next < end; ++next) {
      _mm_prefetch(reinterpret_cast<const char*>(base + static_cast<uintptr_t>(next) * 64), _MM_HINT_T0);
    }
  }
};

// Output of a narrow tile: each accumulator's 16 lanes summed.
template <int R, int T>
void store_narrow(const GemmArgs& g, int64_t r0, int64_t c0, const __m512 (&acc)[R][T]) {
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < R; ++r) g.out[(c0 + t) * g.out_stride + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// Wide tiles keep token t of the 8 in lanes 2t and 2t + 1 of a row's accumulator ("token layout").

// Output of a wide tile.
template <int R>
void store_wide(const GemmArgs& g, int64_t r0, int64_t c0, const __m512 (&acc)[R]) {
  for (int r = 0; r < R; ++r) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc[r]);
    for (int t = 0; t < 8; ++t) g.out[(c0 + t) * g.out_stride + r0 + r] = lanes[2 * t] + lanes[2 * t + 1];
  }
}

// 128-bit lane i of the result = the sum of s[i]'s four 128-bit lanes: two rounds of lane shuffles.
// Wide tiles: token-pair sums (tokens 2i, 2i + 1, each lane = [2i, 2i, 2i + 1, 2i + 1]) into the
// token layout; narrow tiles: 4 rows' sums into one vector, row i in lane i.
__m512i reduce_pairs(const __m512i (&s)[4]) {
  const __m512i u01 = _mm512_add_epi32(_mm512_shuffle_i64x2(s[0], s[1], 0x44), _mm512_shuffle_i64x2(s[0], s[1], 0xee));
  const __m512i u23 = _mm512_add_epi32(_mm512_shuffle_i64x2(s[2], s[3], 0x44), _mm512_shuffle_i64x2(s[2], s[3], 0xee));
  return _mm512_add_epi32(_mm512_shuffle_i64x2(u01, u23, 0x88), _mm512_shuffle_i64x2(u01, u23, 0xdd));
}

// The activation scales of 8 tokens' super-block b in the token layout. `offsets` are the tokens'
// byte offsets from token 0 (gemm_tiles checks they fit 32 bits).
__m512 token_scales8(const uint8_t* a0, __m256i offsets, int64_t b) {
  const __m256 d8 = _mm256_i32gather_ps(reinterpret_cast<const float*>(a0 + b * sizeof(BlockQ8_K)), offsets, 1);
  const __m512i spread = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  return _mm512_permutexvar_ps(spread, _mm512_castps256_ps512(d8));
}

// Byte offsets of tokens 0..7 of a tile from token 0, for token_scales8.
__m256i token_offsets(const GemmArgs& g) {
  return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(g.a_stride)));
}

// Two tokens' 16 bsums side by side: [token t | token t + 1].
__m512i bsums_pair(const BlockQ8_K& x, const BlockQ8_K& y) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Runs tiles over the whole (n_rows x n_cols) problem, tokens outer so a token group's activations
// stay in L1 while the rows (whose weights the driver keeps in L2) stream by: wide 4 x 8 tiles, then
// a remainder of 4 tokens as 2 x 4 narrow tiles, then 1-3 tokens as 4 x 1-3 (decode: 4 x 1).
template <template <int> class Wide, template <int, int> class Narrow>
void gemm_tiles(const GemmArgs& g) {
  // Wide tiles gather activation scales with 32-bit offsets (7 * a_stride, i.e. k < ~60M).
  const bool wide = g.a_stride <= (uint64_t{1} << 28);
  int64_t c0 = 0;
  for (; wide && c0 + 8 <= g.n_cols; c0 += 8) {
    int64_t r0 = 0;
    for (; r0 + 4 <= g.n_rows; r0 += 4) Wide<4>::run(g, r0, c0);
    for (; r0 < g.n_rows; ++r0) Wide<1>::run(g, r0, c0);
  }
  const auto rows = [&](int step, auto tile, auto one) {
    int64_t r0 = 0;
    for (; r0 + step <= g.n_rows; r0 += step) tile(r0);
    for (; r0 < g.n_rows; ++r0) one(r0);
  };
  for (; c0 + 4 <= g.n_cols; c0 += 4) {
    rows(2, [&](int64_t r0) { Narrow<2, 4>::run(g, r0, c0); }, [&](int64_t r0) { Narrow<1, 4>::run(g, r0, c0); });
  }
  switch (g.n_cols - c0) {
    case 0: return;
    case 1:
      rows(4, [&](int64_t r0) { Narrow<4, 1>::run(g, r0, c0); }, [&](int64_t r0) { Narrow<1, 1>::run(g, r0, c0); });
      return;
    case 2:
      rows(4, [&](int64_t r0) { Narrow<4, 2>::run(g, r0, c0); }, [&](int64_t r0) { Narrow<1, 2>::run(g, r0, c0); });
      return;
    default:
      rows(4, [&](int64_t r0) { Narrow<4, 3>::run(g, r0, c0); }, [&](int64_t r0) { Narrow<1, 3>::run(g, r0, c0); });
      return;
  }
}

// ---- q4_K and q5_K ------------------------------------------------------------------------

// The 12 packed bytes b0..b11 hold sc0-3 = b0-3 & 63, m0-3 = b4-7 & 63, sc4-7 = (b8-11 & 15) |
// (b0-3 >> 6) << 4, m4-7 = (b8-11 >> 4) | (b4-7 >> 6) << 4. `v` holds 16 bytes from `scales` (the 12
// plus 4 of qs) in each 128-bit lane, one super-block per lane; the result is [sc0..sc7, m0..m7] in
// each. Unpacked in vector registers (the scalar version's moves from general registers cost a q4_K
// prefill tile 3%), 4 rows at once.
__m512i scale_min_bytes(__m512i v) {
  const auto lanes = [](__m128i x) { return _mm512_broadcast_i32x4(x); };
  const __m512i lo = _mm512_shuffle_epi8(v, lanes(_mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)));
  const __m512i top =
      _mm512_shuffle_epi8(v, lanes(_mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7)));
  __m512i b = _mm512_and_si512(lo, lanes(_mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0)));
  // b | (x & mask), twice: the high nibbles of b8-11, then the top bits of b0-7.
  b = _mm512_ternarylogic_epi32(b, _mm512_srli_epi16(lo, 4),
                                lanes(_mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15)), 0xf8);
  return _mm512_ternarylogic_epi32(b, _mm512_srli_epi16(top, 2),
                                   lanes(_mm_setr_epi8(0, 0, 0, 0, 48, 48, 48, 48, 0, 0, 0, 0, 48, 48, 48, 48)), 0xf8);
}

// Scales and mins of super-block b of R <= 4 rows as int16, row r in 128-bit lane r: sc16 = its 8
// scales, mins16 = its 8 mins (lanes past R: garbage of row 0).
template <int R, class Block>
void unpack_rows(const Block* const (&w)[R], int64_t b, __m512i& sc16, __m512i& mins16) {
  static_assert(R >= 1 && R <= 4);
  const auto scales = [&](int r) {  // + 4 bytes of qs
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales));
  };
  __m512i v = _mm512_castsi128_si512(scales(0));
  if constexpr (R > 1) v = _mm512_inserti32x4(v, scales(1), 1);
  if constexpr (R > 2) v = _mm512_inserti32x4(v, scales(2), 2);
  if constexpr (R > 3) v = _mm512_inserti32x4(v, scales(3), 3);
  const __m512i bytes = scale_min_bytes(v);
  sc16 = _mm512_unpacklo_epi8(bytes, _mm512_setzero_si512());
  mins16 = _mm512_unpackhi_epi8(bytes, _mm512_setzero_si512());
}

// Dwords i0..i3 of 128-bit lane r of x, in every 128-bit lane.
__m512i lane_dwords(__m512i x, int r, int i0, int i1, int i2, int i3) {
  return _mm512_permutexvar_epi32(_mm512_set4_epi32(4 * r + i3, 4 * r + i2, 4 * r + i1, 4 * r + i0), x);
}

// VPSHUFB control spreading scale 2p over the low 256 bits and 2p + 1 over the high 256 bits.
__m512i scale_pair_control(int p) {
  const auto lo = static_cast<int16_t>((4 * p + 1) << 8 | 4 * p);
  const auto hi = static_cast<int16_t>((4 * p + 3) << 8 | (4 * p + 2));
  return _mm512_inserti64x4(_mm512_set1_epi16(lo), _mm256_set1_epi16(hi), 1);
}

// VPSHUFB control for the scales of sub-blocks 4q .. 4q + 3 in the layout VPACKSSDW leaves the sums
// of pairs p = 2q, 2q + 1 in: 128-bit lanes 0-1 = [4q x4, 4q + 2 x4], lanes 2-3 = [4q + 1 x4, 4q + 3 x4];
// with `nibbles` (sums of the low | high nibbles of qs[64q ..]): [4q x4, 4q + 1 x4], [4q + 2 x4, 4q + 3 x4].
__m512i scale_quad_control(int q, bool nibbles = false) {
  const auto pair = [](int lo, int hi) {
    const auto idx = [](int s) { return static_cast<int16_t>((2 * s + 1) << 8 | 2 * s); };  // bytes of int16 s
    return _mm256_broadcastsi128_si256(
        _mm_set_epi16(idx(hi), idx(hi), idx(hi), idx(hi), idx(lo), idx(lo), idx(lo), idx(lo)));
  };
  const int second = nibbles ? 1 : 2;
  return _mm512_inserti64x4(_mm512_castsi256_si512(pair(4 * q, 4 * q + second)),
                            pair(4 * q + 3 - second, 4 * q + 3), 1);
}

// Sub-block sums (adjacent bsums added) of 8 tokens, as int16 for VPMADDWD against mins_lo / mins_hi:
// 128-bit lane L of lo = [sums 0-3 of token 2L, sums 0-3 of token 2L + 1], hi likewise for sums 4-7,
// so the products land in the token layout.
void sub_block_sums8(const BlockQ8_K* const (&a)[8], int64_t b, __m512i& lo, __m512i& hi) {
  const __m512i ones = _mm512_set1_epi16(1);
  __m512i z[2];
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    // VPACKSSDW of [t, t + 2] and [t + 1, t + 3] (t = 4i): lanes [t 0-3, t+1 0-3], [t 4-7, t+1 4-7], ...
    const __m512i x = _mm512_madd_epi16(bsums_pair(a[4 * i][b], a[4 * i + 2][b]), ones);
    const __m512i y = _mm512_madd_epi16(bsums_pair(a[4 * i + 1][b], a[4 * i + 3][b]), ones);
    z[i] = _mm512_packs_epi32(x, y);
  }
  lo = _mm512_shuffle_i64x2(z[0], z[1], 0x88);
  hi = _mm512_shuffle_i64x2(z[0], z[1], 0xdd);
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

  static __m512i high_bits(const Block& x) {
    if constexpr (kQ5) {
      return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh)));
    } else {
      return _mm512_setzero_si512();
    }
  }

  template <int R>
  struct Wide {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const Block* w[R];
      const BlockQ8_K* a[8];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < 8; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      const __m256i offsets = token_offsets(g);
      __m512 acc[R];
      for (auto& v : acc) v = _mm512_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        // Per row: sc = its 8 scales in every 128-bit lane (for VPSHUFB); mins_lo / mins_hi =
        // [m0..m3, m0..m3] / [m4..m7, m4..m7] in every 128-bit lane.
        __m512i sc[R], mins_lo[R], mins_hi[R];
        __m512i qh[R];
        __m512i sumi[R][4];
        __m512i sc16, mins16;
        unpack_rows<R>(w, b, sc16, mins16);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          prefetch_ahead(w[r], b);
          sc[r] = lane_dwords(sc16, r, 0, 1, 2, 3);
          mins_lo[r] = lane_dwords(mins16, r, 0, 1, 0, 1);
          mins_hi[r] = lane_dwords(mins16, r, 2, 3, 2, 3);
          qh[r] = high_bits(w[r][b]);
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) sumi[r][i] = _mm512_setzero_si512();
        }
#pragma GCC unroll 4
        for (int p = 0; p < 4; ++p) {
          __m512i q[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            q[r] = quants(w[r][b], qh[r], p);
            s[r] = _mm512_shuffle_epi8(sc[r], scale_pair_control(p));
          }
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) {
            const __m512i a0 = _mm512_loadu_si512(a[2 * i][b].qs + 64 * p);
            const __m512i a1 = _mm512_loadu_si512(a[2 * i + 1][b].qs + 64 * p);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              const __m512i x0 = dpbusd0(q[r], a0);
              const __m512i x1 = dpbusd0(q[r], a1);
              sumi[r][i] = _mm512_dpwssd_epi32(sumi[r][i], _mm512_packs_epi32(x0, x1), s[r]);
            }
          }
        }
        const __m512 da = token_scales8(g.a + c0 * g.a_stride, offsets, b);
        __m512i bs_lo, bs_hi;
        sub_block_sums8(a, b, bs_lo, bs_hi);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m512i m = _mm512_dpwssd_epi32(_mm512_madd_epi16(bs_lo, mins_lo[r]), bs_hi, mins_hi[r]);
          const __m512 x = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), _mm512_set1_ps(half_to_float(w[r][b].dmin)),
                                            _mm512_mul_ps(_mm512_cvtepi32_ps(reduce_pairs(sumi[r])),
                                                          _mm512_set1_ps(half_to_float(w[r][b].d))));
          acc[r] = _mm512_fmadd_ps(x, da, acc[r]);
        }
      }
      store_wide<R>(g, r0, c0, acc);
    }
  };

  template <int R, int T>
  struct Narrow {
    // q4_K with few tokens: the low and high nibbles of 64 bytes of qs are one weight vector each
    // (half the loads and shifts of quants()); the few activation vectors are rearranged to match.
    static constexpr bool kNibbles = !kQ5 && T <= 2;

    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const Block* w[R];
      const BlockQ8_K* a[T];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      static_assert(R <= 4);
      // acc[t]: 128-bit lane r = 4 partial sums of row r (lanes past R stay 0).
      __m512 acc[T];
      for (auto& v : acc) v = _mm512_setzero_ps();
      RangePrefetch pf(g, r0, R);
      for (int64_t b = 0; b < nb; ++b) {
        __m512i qh[R];
        __m512i sumi[R][T];
        pf.step();
        // sc[r] = row r's 8 scales in every 128-bit lane (for VPSHUFB); mins16 stays per row.
        __m512i sc[R];
        __m512i sc16, mins16;
        unpack_rows<R>(w, b, sc16, mins16);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          sc[r] = lane_dwords(sc16, r, 0, 1, 2, 3);
          qh[r] = high_bits(w[r][b]);
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) sumi[r][t] = _mm512_setzero_si512();
        }
        // Two rounds of the pairs p = 2q, 2q + 1 (sub-blocks 4q .. 4q + 3) packed together.
#pragma GCC unroll 2
        for (int q = 0; q < 2; ++q) {
          __m512i w0[R], w1[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            if constexpr (kNibbles) {
              const __m512i qs = _mm512_loadu_si512(w[r][b].qs + 64 * q);
              w0[r] = _mm512_and_si512(qs, _mm512_set1_epi8(0x0f));
              w1[r] = _mm512_and_si512(_mm512_srli_epi16(qs, 4), _mm512_set1_epi8(0x0f));
            } else {
              w0[r] = quants(w[r][b], qh[r], 2 * q);
              w1[r] = quants(w[r][b], qh[r], 2 * q + 1);
            }
            s[r] = _mm512_shuffle_epi8(sc[r], scale_quad_control(q, kNibbles));
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            __m512i a0 = _mm512_loadu_si512(a[t][b].qs + 128 * q);
            __m512i a1 = _mm512_loadu_si512(a[t][b].qs + 128 * q + 64);
            if constexpr (kNibbles) {  // weights 128q + [0, 32) | [64, 96), then [32, 64) | [96, 128)
              const __m512i lo = _mm512_shuffle_i64x2(a0, a1, 0x44);
              a1 = _mm512_shuffle_i64x2(a0, a1, 0xee);
              a0 = lo;
            }
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              const __m512i x0 = dpbusd0(w0[r], a0);
              const __m512i x1 = dpbusd0(w1[r], a1);
              sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_packs_epi32(x0, x1), s[r]);
            }
          }
        }
        // All R rows at once, row r in 128-bit lane r: d_r and dmin_r (both f16 pairs converted in
        // one go), each token's quant sums folded to 4 lanes per row and its min sums (mins x
        // sub-block sums of bsums), then one FMA each.
        __m512 d, dmin;
        {
          static_assert(offsetof(Block, d) == 0 && offsetof(Block, dmin) == 2);
          int32_t pairs[4] = {};
          for (int r = 0; r < R; ++r) std::memcpy(&pairs[r], &w[r][b], sizeof(int32_t));
          const __m512 dm = _mm512_castps256_ps512(
              _mm256_cvtph_ps(_mm_setr_epi32(pairs[0], pairs[1], pairs[2], pairs[3])));  // [d0, dmin0, d1, ...]
          d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6), dm);
          dmin = _mm512_permutexvar_ps(_mm512_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7), dm);
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const __m512 da = _mm512_set1_ps(a[t][b].d);
          // Sub-block sums (adjacent bsums, < 2^13) as int16 in every 128-bit lane.
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums));
          const __m512i sub =
              _mm512_broadcast_i32x4(_mm256_cvtepi32_epi16(_mm256_madd_epi16(bsums, _mm256_set1_epi16(1))));
          const __m512i summ = _mm512_madd_epi16(mins16, sub);
          __m512i rows[4];
          for (int r = 0; r < 4; ++r) rows[r] = r < R ? sumi[r < R ? r : 0][t] : _mm512_setzero_si512();  // in bounds
          const __m512i sumq = reduce_pairs(rows);
          acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumq), _mm512_mul_ps(d, da), acc[t]);
          acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(dmin, da), acc[t]);
        }
      }
      for (int t = 0; t < T; ++t) {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, acc[t]);
        for (int r = 0; r < R; ++r) {
          const float* l = lanes + 4 * r;
          g.out[(c0 + t) * g.out_stride + r0 + r] = (l[0] + l[1]) + (l[2] + l[3]);
        }
      }
    }
  };
};

// ---- q6_K ---------------------------------------------------------------------------------

struct Q6 {
  // The 64 quants (6-bit, unsigned) of weights 64i .. 64i + 63 (i = 2h + u: half h, groups 2u and
  // 2u + 1): low nibbles from ql (u = 0) or their high nibbles (u = 1), top two bits of group g from
  // bits 2g, 2g + 1 of qh moved to bits 4, 5 by 64-bit shifts.
  static __m512i quants(const BlockQ6_K& x, int h, int u) {
    const __m512i ql = _mm512_loadu_si512(x.ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h)));
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i lo = u == 0 ? _mm512_and_si512(ql, low4) : _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4);
    const __m512i hi = u == 0 ? _mm512_sllv_epi64(qh, _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4))   // g = 0 | 1
                              : _mm512_srlv_epi64(qh, _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0));  // g = 2 | 3
    return _mm512_ternarylogic_epi32(lo, hi, _mm512_set1_epi8(0x30), 0xf8);  // lo | (hi & 0x30)
  }

  // The 16 scales as int16 (low 256 bits) and -32 * scale (per bsum of 16, both halves).
  static void scales(const BlockQ6_K& x, __m512i& sc, __m512i& offset) {
    const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
    const __m256i off = _mm256_mullo_epi16(s16, _mm256_set1_epi16(-32));
    sc = _mm512_castsi256_si512(s16);
    offset = _mm512_inserti64x4(_mm512_castsi256_si512(off), off, 1);
  }

  // VPERMW indices putting scale 4i + n into every int16 of 128-bit lane n (sub-blocks of 16 of
  // weights 64i ..), for sums of two tokens packed by VPACKSSDW.
  static __m512i lane_index(int i) {
    constexpr int64_t kRep = 0x0001000100010001LL;  // an int16 value repeated 4 times
    const __m512i lane = _mm512_set_epi64(3 * kRep, 3 * kRep, 2 * kRep, 2 * kRep, kRep, kRep, 0, 0);
    return _mm512_add_epi16(lane, _mm512_set1_epi16(static_cast<int16_t>(4 * i)));
  }

  // VPERMW indices for half h's sub-block scales in the layout VPACKSSDW leaves one token's sums of
  // weights 128h .. + 63 and 128h + 64 .. + 127 in: 128-bit lane n = [8h + n x4, 8h + 4 + n x4].
  static __m512i half_index(int h) {
    constexpr int64_t kRep = 0x0001000100010001LL;
    const auto lo = [&](int n) { return (8 * h + n) * kRep; };
    const auto hi = [&](int n) { return (8 * h + 4 + n) * kRep; };
    return _mm512_set_epi64(hi(3), lo(3), hi(2), lo(2), hi(1), lo(1), hi(0), lo(0));
  }

  template <int R>
  struct Wide {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const BlockQ6_K* w[R];
      const BlockQ8_K* a[8];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ6_K*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < 8; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      const __m256i offsets = token_offsets(g);
      // VPERMD from [token 2i: 8 lanes | token 2i + 1: 8 lanes] to the token-pair layout.
      const __m512i pair_order = _mm512_setr_epi32(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
      __m512 acc[R];
      for (auto& v : acc) v = _mm512_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        __m512i sc[R];
        __m512i sumi[R][4];
        {
          __m512i offset[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            prefetch_ahead(w[r], b);
            scales(w[r][b], sc[r], offset[r]);
          }
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) {
            const __m512i bs = bsums_pair(a[2 * i][b], a[2 * i + 1][b]);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              sumi[r][i] = _mm512_permutexvar_epi32(pair_order, _mm512_madd_epi16(bs, offset[r]));
            }
          }
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {  // weights 64j .. 64j + 63: half j / 2, groups 2 (j % 2) ..
          __m512i q[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            q[r] = quants(w[r][b], j / 2, j % 2);
            s[r] = _mm512_permutexvar_epi16(lane_index(j), sc[r]);
          }
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) {
            const __m512i a0 = _mm512_loadu_si512(a[2 * i][b].qs + 64 * j);
            const __m512i a1 = _mm512_loadu_si512(a[2 * i + 1][b].qs + 64 * j);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              const __m512i x0 = dpbusd0(q[r], a0);
              const __m512i x1 = dpbusd0(q[r], a1);
              sumi[r][i] = _mm512_dpwssd_epi32(sumi[r][i], _mm512_packs_epi32(x0, x1), s[r]);
            }
          }
        }
        const __m512 da = token_scales8(g.a + c0 * g.a_stride, offsets, b);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(reduce_pairs(sumi[r])),
                                         _mm512_set1_ps(half_to_float(w[r][b].d)));
          acc[r] = _mm512_fmadd_ps(x, da, acc[r]);
        }
      }
      store_wide<R>(g, r0, c0, acc);
    }
  };

  template <int R, int T>
  struct Narrow {
    static void run(const GemmArgs& g, int64_t r0, int64_t c0) {
      const int64_t nb = g.k / kSuperBlockSize;
      const BlockQ6_K* w[R];
      const BlockQ8_K* a[T];
      for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ6_K*>(g.w + (r0 + r) * g.w_stride);
      for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
      __m512 acc[R][T];
      for (auto& row : acc) {
        for (auto& v : row) v = _mm512_setzero_ps();
      }
      RangePrefetch pf(g, r0, R);
      for (int64_t b = 0; b < nb; ++b) {
        __m512i sc[R];
        __m512i sumi[R][T];
        pf.step();
        {
          __m512i offset[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            scales(w[r][b], sc[r], offset[r]);
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m512i bs =
                _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[t][b].bsums)));
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) sumi[r][t] = _mm512_madd_epi16(bs, offset[r]);  // bs: upper half 0
          }
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          // Weights 128h .. + 63 and 128h + 64 .. + 127 of one token packed together.
          __m512i q0[R], q1[R], s[R];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            q0[r] = quants(w[r][b], h, 0);
            q1[r] = quants(w[r][b], h, 1);
            s[r] = _mm512_permutexvar_epi16(half_index(h), sc[r]);
          }
#pragma GCC unroll 4
          for (int t = 0; t < T; ++t) {
            const __m512i a0 = _mm512_loadu_si512(a[t][b].qs + 128 * h);
            const __m512i a1 = _mm512_loadu_si512(a[t][b].qs + 128 * h + 64);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
              const __m512i x0 = dpbusd0(q0[r], a0);
              const __m512i x1 = dpbusd0(q1[r], a1);
              sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_packs_epi32(x0, x1), s[r]);
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
      store_narrow<R, T>(g, r0, c0, acc);
    }
  };
};

// Dword i of the 32 bytes at p + r * stride (r = 0..15) into lane r of out[i]: an 8 x 8 dword
// transpose in each 256-bit half, rows paired as [k | k + 4] and [8 + k | 12 + k] so the last
// 128-bit lane shuffle leaves the rows in order (loads and shuffles: gathers are slow on Zen).
void transpose16x8(const uint8_t* p, uint64_t stride, __m512i (&out)[8]) {
  const auto row = [&](int r) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + r * stride)); };
  __m512i z[8], t[8];
  for (int k = 0; k < 4; ++k) {
    z[k] = _mm512_inserti64x4(_mm512_castsi256_si512(row(k)), row(k + 4), 1);
    z[4 + k] = _mm512_inserti64x4(_mm512_castsi256_si512(row(8 + k)), row(12 + k), 1);
  }
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm512_unpacklo_epi32(z[k], z[k + 1]);
    t[k + 1] = _mm512_unpackhi_epi32(z[k], z[k + 1]);
  }
  for (int h = 0; h < 8; h += 4) {  // u[h + m] = rows of z[h..h+3], dword m (and 4 + m) of each 128-bit lane
    z[h] = _mm512_unpacklo_epi64(t[h], t[h + 2]);
    z[h + 1] = _mm512_unpackhi_epi64(t[h], t[h + 2]);
    z[h + 2] = _mm512_unpacklo_epi64(t[h + 1], t[h + 3]);
    z[h + 3] = _mm512_unpackhi_epi64(t[h + 1], t[h + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    out[m] = _mm512_shuffle_i32x4(z[m], z[4 + m], 0x88);
    out[4 + m] = _mm512_shuffle_i32x4(z[m], z[4 + m], 0xdd);
  }
}

// The activation dword at byte i of a q8_K block's quants, in every lane.
__m512i bcast_qs(const BlockQ8_K& a, int i) {
  int32_t v;
  std::memcpy(&v, a.qs + i, sizeof(v));
  return _mm512_set1_epi32(v);
}

// Sub-block sums s_0..s_7 (adjacent bsums added) as int16 pairs (s_2i, s_2i+1), against int16 pairs of mins or offsets.
void sub_block_pairs(const BlockQ8_K& a, int32_t (&pairs)[4]) {
  const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(pairs), _mm256_cvtepi32_epi16(_mm256_madd_epi16(bs, _mm256_set1_epi16(1))));
}

// Unpacked 16-row super-block x (quants x.q[4-byte group][row], scales x.dsc[sub-block][row])
// against 8 tokens' super-block s: tmp[t] += Σ_sub-blocks dsc * (integer dot of the sub-block),
// kSubs sub-blocks of 256 / kSubs weights (q4_K: 8 of 32, q6_K: 16 of 16).
template <int kSubs, class Unpacked>
[[gnu::always_inline]] inline void subblock_dots(const Unpacked& x, const BlockQ8_K* const (&a)[8], int s,
                                                 __m512 (&tmp)[8]) {
  constexpr int kGroups = kSuperBlockSize / kSubs / 4;  // 4-byte groups per sub-block
  for (int j = 0; j < kSubs; ++j) {
    __m512i sum[8];
#pragma GCC unroll 8
    for (int i = 0; i < kGroups; ++i) {
      const __m512i q = _mm512_load_si512(x.q[kGroups * j + i]);
#pragma GCC unroll 8
      for (int t = 0; t < 8; ++t) {
        const __m512i v = bcast_qs(a[t][s], 4 * (kGroups * j + i));
        sum[t] = i == 0 ? dpbusd0(q, v) : _mm512_dpbusd_epi32(sum[t], q, v);
      }
    }
    const __m512 dsc = _mm512_load_ps(x.dsc[j]);
#pragma GCC unroll 8
    for (int t = 0; t < 8; ++t) tmp[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), dsc, tmp[t]);
  }
}

// ---- q4_K / q5_K prefill: 16 rows unpacked once per call, one row per 32-bit lane ------------------
//
// As the legacy kernels do: a call's 16 rows are unpacked a few super-blocks at a time into an L1
// buffer (4 quants of each row per dword, scales as f32 d * sc, mins as int16 pairs), then 8-token
// groups run against it: every VPDPBUSD takes 4 activation bytes broadcast from memory, a
// sub-block's 8 of them give each row's int32 sum in its lane, and one convert + FMA applies the
// scale (no packing, no horizontal sums). The mins take 4 VPDPWSSD per token and super-block.
template <bool kQ5>
struct K4Rows16 {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;
  static constexpr int kChunk = 4;  // super-blocks per unpack: ~19 KB of buffer

  struct Unpacked {
    alignas(64) uint32_t q[kSuperBlockSize / 4][16];  // q[j][r]: quants 4j .. 4j + 3 of row r
    alignas(64) float dsc[8][16];                     // d_r * sc_j of row r
    alignas(64) uint32_t mins[4][16];                 // int16 pair (m_2i, m_2i+1) of row r
    alignas(64) float dmin[16];
  };

  static void unpack(const GemmArgs& g, int64_t r0, int64_t b, Unpacked& u) {
    const uint8_t* base = g.w + r0 * g.w_stride + b * sizeof(Block) + offsetof(Block, qs);
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    // q5_K: bits 4i .. 4i + 3 of qh, for elements l = 4i .. 4i + 3 of every sub-block.
    __m512i qh[8];
    if constexpr (kQ5) transpose16x8(base - offsetof(Block, qs) + offsetof(BlockQ5_K, qh), g.w_stride, qh);
    // q | bit `sub` of each qh byte as bit 4 (shifts within a dword never move a wanted bit across bytes).
    const auto fifth = [&](__m512i q, int i, int sub) {
      if constexpr (!kQ5) return q;
      const __m512i h = sub <= 4 ? _mm512_slli_epi32(qh[i], static_cast<unsigned>(4 - sub))
                                 : _mm512_srli_epi32(qh[i], static_cast<unsigned>(sub - 4));
      return _mm512_ternarylogic_epi32(q, h, _mm512_set1_epi8(0x10), 0xf8);
    };
    for (int p = 0; p < 4; ++p) {
      __m512i x[8];
      transpose16x8(base + 32 * p, g.w_stride, x);
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {  // bytes qs[32p + 4i ..]: weights 64p + 4i .. (low), + 32 (high)
        _mm512_store_si512(u.q[16 * p + i], fifth(_mm512_and_si512(x[i], low4), i, 2 * p));
        const __m512i high = _mm512_and_si512(_mm512_srli_epi16(x[i], 4), low4);
        _mm512_store_si512(u.q[16 * p + 8 + i], fifth(high, i, 2 * p + 1));
      }
    }
    // Row r's mins then scales as int16 pairs, [m0 m1 | m2 m3 | .. | sc0 sc1 | ..], transposed so
    // that dword i of every row lands in one vector.
    alignas(64) uint32_t pairs[16][8];
    int32_t dm[16];  // (d, dmin) of row r
    for (int r4 = 0; r4 < 16; r4 += 4) {
      const Block* w[4];
      for (int r = 0; r < 4; ++r) w[r] = reinterpret_cast<const Block*>(g.w + (r0 + r4 + r) * g.w_stride);
      __m512i sc16, mins16;
      unpack_rows<4>(w, b, sc16, mins16);
      _mm512_store_si512(pairs[r4],
                         _mm512_permutex2var_epi64(mins16, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), sc16));
      _mm512_store_si512(pairs[r4 + 2],
                         _mm512_permutex2var_epi64(mins16, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), sc16));
      static_assert(offsetof(Block, d) == 0 && offsetof(Block, dmin) == 2);
      for (int r = 0; r < 4; ++r) std::memcpy(&dm[r4 + r], &w[r][b], sizeof(int32_t));
    }
    __m512i x[8];
    transpose16x8(reinterpret_cast<const uint8_t*>(pairs), sizeof(pairs[0]), x);
    const __m512i dmv = _mm512_loadu_si512(dm);
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dmv));
    _mm512_store_ps(u.dmin, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dmv, 16))));
    for (int i = 0; i < 4; ++i) {
      _mm512_store_si512(u.mins[i], x[i]);
      const __m512i even = _mm512_and_si512(x[4 + i], _mm512_set1_epi32(0xffff));
      _mm512_store_ps(u.dsc[2 * i], _mm512_mul_ps(d, _mm512_cvtepi32_ps(even)));
      _mm512_store_ps(u.dsc[2 * i + 1], _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_srli_epi32(x[4 + i], 16))));
    }
  }

  // Tokens c0 .. c0 + 7 against super-blocks b0 .. b0 + n - 1 of the buffer; acc[t] = rows of token t.
  static void tokens8(const GemmArgs& g, int64_t c0, int64_t b0, int n, const Unpacked* u, __m512 (&acc)[8]) {
    const BlockQ8_K* a[8];
    for (int t = 0; t < 8; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride) + b0;
    for (int s = 0; s < n; ++s) {
      const Unpacked& x = u[s];
      __m512 tmp[8];
      for (auto& v : tmp) v = _mm512_setzero_ps();
      subblock_dots<8>(x, a, s, tmp);
      const __m512 dmin = _mm512_load_ps(x.dmin);
#pragma GCC unroll 8
      for (int t = 0; t < 8; ++t) {
        int32_t pairs[4];
        sub_block_pairs(a[t][s], pairs);
        __m512i m = _mm512_setzero_si512();
        for (int i = 0; i < 4; ++i) {
          m = _mm512_dpwssd_epi32(m, _mm512_load_si512(x.mins[i]), _mm512_set1_epi32(pairs[i]));
        }
        const __m512 v = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), dmin, tmp[t]);
        acc[t] = _mm512_fmadd_ps(v, _mm512_set1_ps(a[t][s].d), acc[t]);
      }
    }
  }

};

// ---- q6_K prefill: as K4Rows16, with sub-blocks of 16 ---------------------------------------
//
// Quants stay unsigned (0..63); the offset of -32 is folded in with the bsums: int16 pairs
// (-32 sc_2i, -32 sc_2i+1) per row against each token's bsum pairs, 8 VPDPWSSD per token and
// super-block. A sub-block is 4 VPDPBUSD per token, then one convert + FMA with d * sc.
// d, d * sc_j and the int16 pairs (-32 sc_2i, -32 sc_2i+1) of 16 rows of a q6_K super-block.
struct Q6Scales {
  __m512 d;
  __m512 dsc[16];
  __m512i offs[8];

  template <class Unpacked>
  void store(Unpacked& u) const {
    _mm512_store_ps(u.d, d);
    for (int j = 0; j < 16; ++j) _mm512_store_ps(u.dsc[j], dsc[j]);
    for (int i = 0; i < 8; ++i) _mm512_store_si512(u.offs[i], offs[i]);
  }
};

// From the rows' d and x[m] lane r = scale bytes 4m .. 4m + 3 of row r.
[[gnu::always_inline]] inline void q6_scales(__m512 d, const __m512i (&x)[4], Q6Scales& s) {
  s.d = d;
  const __m512i minus32 = _mm512_set1_epi16(-32);
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {  // scales 4m .. 4m + 3
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(x[m], static_cast<unsigned>(24 - 8 * k)), 24);
      s.dsc[4 * m + k] = _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc));
    }
    const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(x[m], 8), 8);  // each int16: its low byte
    const __m512i odd = _mm512_srai_epi16(x[m], 8);                         // its high byte
    const __m512i p0 = _mm512_mask_blend_epi16(0xaaaaaaaa, even, _mm512_slli_epi32(odd, 16));  // (sc 4m, 4m + 1)
    const __m512i p1 = _mm512_mask_blend_epi16(0xaaaaaaaa, _mm512_srli_epi32(even, 16), odd);   // (4m + 2, 4m + 3)
    s.offs[2 * m] = _mm512_mullo_epi16(p0, minus32);
    s.offs[2 * m + 1] = _mm512_mullo_epi16(p1, minus32);
  }
}

struct Q6Rows16 {
  static constexpr int kChunk = 3;  // super-blocks per unpack: ~17 KB of buffer

  struct Unpacked {
    alignas(64) uint32_t q[kSuperBlockSize / 4][16];  // q[j][r]: quants 4j .. 4j + 3 of row r
    alignas(64) float dsc[16][16];                    // d_r * sc_j of row r
    alignas(64) uint32_t offs[8][16];                 // int16 pair (-32 sc_2i, -32 sc_2i+1) of row r
    alignas(64) float d[16];
  };

  static void unpack(const GemmArgs& g, int64_t r0, int64_t b, Unpacked& u) {
    const uint8_t* base = g.w + r0 * g.w_stride + b * sizeof(BlockQ6_K);
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(static_cast<int>(g.w_stride)));
    const __m512i low4 = _mm512_set1_epi8(0x0f), top2 = _mm512_set1_epi8(0x30);
    // lo | (hi & 0x30)
    const auto join = [&](__m512i lo, __m512i hi) { return _mm512_ternarylogic_epi32(lo, hi, top2, 0xf8); };
    for (int h = 0; h < 2; ++h) {
      __m512i ql0[8], ql1[8], qh[8];
      transpose16x8(base + offsetof(BlockQ6_K, ql) + 64 * h, g.w_stride, ql0);
      transpose16x8(base + offsetof(BlockQ6_K, ql) + 64 * h + 32, g.w_stride, ql1);
      transpose16x8(base + offsetof(BlockQ6_K, qh) + 32 * h, g.w_stride, qh);
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {  // l = 4i .. 4i + 3 of half h: weights 128h + 32 n + l, n = 0..3
        const __m512i x0 = ql0[i], x1 = ql1[i], hb = qh[i];
        _mm512_store_si512(u.q[32 * h + i], join(_mm512_and_si512(x0, low4), _mm512_slli_epi32(hb, 4)));
        _mm512_store_si512(u.q[32 * h + 8 + i], join(_mm512_and_si512(x1, low4), _mm512_slli_epi32(hb, 2)));
        _mm512_store_si512(u.q[32 * h + 16 + i], join(_mm512_and_si512(_mm512_srli_epi32(x0, 4), low4), hb));
        _mm512_store_si512(u.q[32 * h + 24 + i],
                           join(_mm512_and_si512(_mm512_srli_epi32(x1, 4), low4), _mm512_srli_epi32(hb, 2)));
      }
    }
    // Scales and d gathered 4 bytes at a time (d's dword ends at d, inside the block).
    const __m512i dword = _mm512_i32gather_epi32(rows, base + offsetof(BlockQ6_K, d) - 2, 1);
    __m512i x[4];
    for (int m = 0; m < 4; ++m) x[m] = _mm512_i32gather_epi32(rows, base + offsetof(BlockQ6_K, scales) + 4 * m, 1);
    Q6Scales sc;
    q6_scales(_mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dword, 16))), x, sc);
    sc.store(u);
  }

  static void tokens8(const GemmArgs& g, int64_t c0, int64_t b0, int n, const Unpacked* u, __m512 (&acc)[8]) {
    const BlockQ8_K* a[8];
    for (int t = 0; t < 8; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride) + b0;
    for (int s = 0; s < n; ++s) {
      const Unpacked& x = u[s];
      const __m512 d = _mm512_load_ps(x.d);
      __m512 tmp[8];
#pragma GCC unroll 8
      for (int t = 0; t < 8; ++t) {
        __m512i m = _mm512_setzero_si512();
        for (int i = 0; i < 8; ++i) {
          int32_t v;
          std::memcpy(&v, a[t][s].bsums + 2 * i, 4);
          m = _mm512_dpwssd_epi32(m, _mm512_load_si512(x.offs[i]), _mm512_set1_epi32(v));
        }
        tmp[t] = _mm512_mul_ps(_mm512_cvtepi32_ps(m), d);
      }
      subblock_dots<16>(x, a, s, tmp);
#pragma GCC unroll 8
      for (int t = 0; t < 8; ++t) acc[t] = _mm512_fmadd_ps(tmp[t], _mm512_set1_ps(a[t][s].d), acc[t]);
    }
  }
};

// Rows r0 .. r0 + 15 x tokens 0 .. n8 - 1 (n8 a multiple of 8) by U = K4Rows16 or Q6Rows16.
template <class U>
void rows16(const GemmArgs& g, int64_t r0, int64_t n8) {
  typename U::Unpacked u[U::kChunk];
  const int64_t nb = g.k / kSuperBlockSize;
  for (int64_t b0 = 0; b0 < nb; b0 += U::kChunk) {
    const int n = static_cast<int>(nb - b0 < U::kChunk ? nb - b0 : U::kChunk);
    for (int s = 0; s < n; ++s) U::unpack(g, r0, b0 + s, u[s]);
    for (int64_t c0 = 0; c0 < n8; c0 += 8) {
      __m512 acc[8];
      for (int t = 0; t < 8; ++t) {
        acc[t] = b0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(g.out + (c0 + t) * g.out_stride + r0);
      }
      U::tokens8(g, c0, b0, n, u, acc);
      for (int t = 0; t < 8; ++t) _mm512_storeu_ps(g.out + (c0 + t) * g.out_stride + r0, acc[t]);
    }
  }
}

// 16-row groups x 8-token groups by U, the rest (rows past the last 16, tokens past the last 8) by
// the register tiles.
template <class U, template <int> class Wide, template <int, int> class Narrow>
void gemm_rows16(const GemmArgs& g) {
  const int64_t n16 = g.n_rows / 16 * 16, n8 = g.n_cols / 8 * 8;
  // Gathers use 32-bit row offsets (15 * w_stride).
  if (n16 == 0 || n8 == 0 || g.w_stride > (uint64_t{1} << 27)) {
    gemm_tiles<Wide, Narrow>(g);
    return;
  }
  for (int64_t r0 = 0; r0 < n16; r0 += 16) rows16<U>(g, r0, n8);
  if (n16 < g.n_rows) {
    GemmArgs rest = g;
    rest.w = g.w + n16 * g.w_stride;
    rest.n_rows = g.n_rows - n16;
    rest.out = g.out + n16;
    rest.n_cols = n8;
    gemm_tiles<Wide, Narrow>(rest);
  }
  if (n8 < g.n_cols) {
    GemmArgs rest = g;
    rest.a = g.a + n8 * g.a_stride;
    rest.n_cols = g.n_cols - n8;
    rest.out = g.out + n8 * g.out_stride;
    gemm_tiles<Wide, Narrow>(rest);
  }
}

// ---- weights repacked into the interleaved layout (cpu/repack.h) ------------------------------
//
// Super-block b of a 16-row group is one contiguous range, every field already one row per 32-bit
// lane. Groups of 8 tokens unpack it (no transposes) into the Rows16 buffer and run tokens8; fewer
// tokens (decode) work from registers, repeating tokens8's floating-point steps for each token, so a
// token's result has the same bits in any batch (the integer sums are exact in any order).

__m512i load512(const uint8_t* p) { return _mm512_loadu_si512(p); }

// One sequential stream, yet the hardware prefetchers left one-token decode at half its bandwidth
// from memory; super-blocks this far ahead are prefetched line by line (2 measured best of 2-8; into
// L2 only was slower). The address may lie past the matrix, where a prefetch is harmless.
constexpr int kPrefetchAhead = 2;
void prefetch_lines(const uint8_t* p, int bytes) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  for (int l = 0; l < bytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(at + static_cast<uintptr_t>(l)), _MM_HINT_T0);
}

// Output lanes of the group's rows that exist (the last group is padded).
__mmask16 group_mask(const GemmArgs& g, int64_t r0) {
  const int64_t n = g.n_rows - r0 < 16 ? g.n_rows - r0 : 16;
  return static_cast<__mmask16>((1u << n) - 1);
}

// q4_K, or with kQ5 q5_K: its qh (8 dwords a row) sits between the scales and the quants.
template <bool kQ5>
struct K4Interleaved {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;
  using Unpacked = typename K4Rows16<kQ5>::Unpacked;
  static constexpr int kChunk = K4Rows16<kQ5>::kChunk;
  static constexpr int kScales = 64, kQh = 256, kQs = kQ5 ? 256 + 512 : 256, kBytes = 16 * sizeof(Block);

  // Quants 4i .. 4i + 3 of sub-block `sub` (nibbles already isolated), with q5_K's fifth bit: bit
  // `sub` of each byte of qh dword i, as bit 4.
  [[gnu::always_inline]] static inline __m512i fifth(const uint8_t* sb, __m512i q, int i, int sub) {
    if constexpr (!kQ5) return q;
    const __m512i qh = load512(sb + kQh + 64 * i);
    const __m512i h = sub <= 4 ? _mm512_slli_epi32(qh, static_cast<unsigned>(4 - sub))
                               : _mm512_srli_epi32(qh, static_cast<unsigned>(sub - 4));
    return _mm512_ternarylogic_epi32(q, h, _mm512_set1_epi8(0x10), 0xf8);  // q | (h & 0x10)
  }

  // d * sc_j of each row (as K4Rows16::unpack computes them), the mins as int16 pairs, dmin.
  struct Scales {
    __m512 dsc[8];
    __m512i mins[4];
    __m512 dmin;
  };

  [[gnu::always_inline]] static inline void scales(const uint8_t* sb, Scales& s) {
    const __m512i dm = load512(sb);
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
    s.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
    // The 12 bytes as in unpack_rows: sc0-3 = b0-3 & 63, m0-3 = b4-7 & 63,
    // sc4-7 = (b8-11 & 15) | (b0-3 >> 6) << 4, m4-7 = (b8-11 >> 4) | (b4-7 >> 6) << 4.
    const __m512i b0 = load512(sb + kScales), b4 = load512(sb + kScales + 64), b8 = load512(sb + kScales + 128);
    const __m512i six = _mm512_set1_epi8(0x3f), four = _mm512_set1_epi8(0x0f), top = _mm512_set1_epi8(0x30);
    const __m512i sc_lo = _mm512_and_si512(b0, six), m_lo = _mm512_and_si512(b4, six);
    const __m512i sc_hi = _mm512_ternarylogic_epi32(_mm512_and_si512(b8, four), _mm512_srli_epi32(b0, 2), top, 0xf8);
    const __m512i m_hi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi32(b8, 4), four),
                                                   _mm512_srli_epi32(b4, 2), top, 0xf8);
    const __m512i byte = _mm512_set1_epi32(0xff);
    for (int k = 0; k < 4; ++k) {
      const auto shift = static_cast<unsigned>(8 * k);
      s.dsc[k] = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(sc_lo, shift), byte)));
      s.dsc[4 + k] = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(sc_hi, shift), byte)));
    }
    // Bytes [m0 m1 m2 m3] -> int16 pairs (m0, m1) and (m2, m3).
    const __m512i low16 = _mm512_set1_epi32(0xff), high16 = _mm512_set1_epi32(0xff0000);
    const auto pairs = [&](__m512i m, __m512i& first, __m512i& second) {
      first = _mm512_or_si512(_mm512_and_si512(m, low16), _mm512_and_si512(_mm512_slli_epi32(m, 8), high16));
      second = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(m, 16), low16),
                               _mm512_and_si512(_mm512_srli_epi32(m, 8), high16));
    };
    pairs(m_lo, s.mins[0], s.mins[1]);
    pairs(m_hi, s.mins[2], s.mins[3]);
  }

  static void unpack(const uint8_t* sb, Unpacked& u) {
    Scales s;
    scales(sb, s);
    for (int j = 0; j < 8; ++j) _mm512_store_ps(u.dsc[j], s.dsc[j]);
    for (int i = 0; i < 4; ++i) _mm512_store_si512(u.mins[i], s.mins[i]);
    _mm512_store_ps(u.dmin, s.dmin);
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int p = 0; p < 4; ++p) {
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {  // qs dword 8p + i: weights 64p + 4i .. (low nibbles), + 32 (high)
        const __m512i x = load512(sb + kQs + 64 * (8 * p + i));
        _mm512_store_si512(u.q[16 * p + i], fifth(sb, _mm512_and_si512(x, low4), i, 2 * p));
        _mm512_store_si512(u.q[16 * p + 8 + i], fifth(sb, _mm512_and_si512(_mm512_srli_epi16(x, 4), low4), i, 2 * p + 1));
      }
    }
  }

  // Super-block b (at sb) of C tokens into acc, from registers.
  template <int C>
  [[gnu::always_inline]] static inline void accumulate(const uint8_t* sb, const BlockQ8_K* const (&a)[C], int64_t b,
                                                       __m512 (&acc)[C]) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    constexpr int kSplit = C < 3 ? 2 : 1;  // few tokens: two integer chains per sum
    Scales s;
    scales(sb, s);
    __m512 tmp[C];
    for (auto& v : tmp) v = _mm512_setzero_ps();
    for (int p = 0; p < 4; ++p) {
      __m512i x[8];
      for (int i = 0; i < 8; ++i) x[i] = load512(sb + kQs + 64 * (8 * p + i));
      for (int h = 0; h < 2; ++h) {
        const int j = 2 * p + h;
        __m512i sum[C][kSplit];
        for (int i = 0; i < 8; ++i) {
          const __m512i q = fifth(sb, h == 0 ? _mm512_and_si512(x[i], low4) : _mm512_and_si512(_mm512_srli_epi16(x[i], 4), low4), i, j);
          for (int t = 0; t < C; ++t) {
            __m512i& v = sum[t][i % kSplit];
            v = i < kSplit ? dpbusd0(q, bcast_qs(a[t][b], 32 * j + 4 * i)) : _mm512_dpbusd_epi32(v, q, bcast_qs(a[t][b], 32 * j + 4 * i));
          }
        }
        for (int t = 0; t < C; ++t) {
          const __m512i total = kSplit == 2 ? _mm512_add_epi32(sum[t][0], sum[t][kSplit - 1]) : sum[t][0];
          tmp[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), s.dsc[j], tmp[t]);
        }
      }
    }
    for (int t = 0; t < C; ++t) {
      int32_t pairs[4];
      sub_block_pairs(a[t][b], pairs);
      __m512i m = _mm512_setzero_si512();
      for (int i = 0; i < 4; ++i) m = _mm512_dpwssd_epi32(m, s.mins[i], _mm512_set1_epi32(pairs[i]));
      const __m512 v = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), s.dmin, tmp[t]);
      acc[t] = _mm512_fmadd_ps(v, _mm512_set1_ps(a[t][b].d), acc[t]);
    }
  }
};

struct Q6Interleaved {
  using Unpacked = Q6Rows16::Unpacked;
  static constexpr int kChunk = Q6Rows16::kChunk;
  static constexpr int kScales = 32, kQl = 288, kQh = 288 + 2048, kBytes = 16 * sizeof(BlockQ6_K);

  [[gnu::always_inline]] static inline void scales(const uint8_t* sb, Q6Scales& s) {
    const __m512i x[4] = {load512(sb + kScales), load512(sb + kScales + 64), load512(sb + kScales + 128),
                          load512(sb + kScales + 192)};
    q6_scales(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb))), x, s);
  }

  // Quants 4g .. 4g + 3 of every row, g = 32h + 8n + i (weights 128h + 32n + 4i ..): the low or high
  // nibbles (n / 2) of ql dword 16h + 8 (n % 2) + i, with bits 2n, 2n + 1 of qh dword 8h + i on top.
  [[gnu::always_inline]] static inline __m512i quants(const uint8_t* sb, int h, int n, int i) {
    const __m512i ql = load512(sb + kQl + 64 * (16 * h + 8 * (n % 2) + i));
    const __m512i qh = load512(sb + kQh + 64 * (8 * h + i));
    const __m512i lo = _mm512_and_si512(n < 2 ? ql : _mm512_srli_epi32(ql, 4), _mm512_set1_epi8(0x0f));
    const int up = 4 - 2 * n;  // moves bits 2n, 2n + 1 of each qh byte to bits 4, 5
    const __m512i hi = up >= 0 ? _mm512_slli_epi32(qh, static_cast<unsigned>(up)) : _mm512_srli_epi32(qh, static_cast<unsigned>(-up));
    return _mm512_ternarylogic_epi32(lo, hi, _mm512_set1_epi8(0x30), 0xf8);  // lo | (hi & 0x30)
  }

  static void unpack(const uint8_t* sb, Unpacked& u) {
    Q6Scales s;
    scales(sb, s);
    s.store(u);
    for (int h = 0; h < 2; ++h) {
      for (int n = 0; n < 4; ++n) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) _mm512_store_si512(u.q[32 * h + 8 * n + i], quants(sb, h, n, i));
      }
    }
  }

  // Super-block b (at sb) of C tokens into acc, from registers: the offsets first, as tokens8 does.
  template <int C>
  [[gnu::always_inline]] static inline void accumulate(const uint8_t* sb, const BlockQ8_K* const (&a)[C], int64_t b,
                                                       __m512 (&acc)[C]) {
    Q6Scales s;
    scales(sb, s);
    __m512 tmp[C];
    for (int t = 0; t < C; ++t) {
      __m512i m = _mm512_setzero_si512();
      for (int i = 0; i < 8; ++i) {
        int32_t v;
        std::memcpy(&v, a[t][b].bsums + 2 * i, 4);
        m = _mm512_dpwssd_epi32(m, s.offs[i], _mm512_set1_epi32(v));
      }
      tmp[t] = _mm512_mul_ps(_mm512_cvtepi32_ps(m), s.d);
    }
    for (int h = 0; h < 2; ++h) {
      for (int n = 0; n < 4; ++n) {
        for (int half = 0; half < 2; ++half) {  // sub-block j of 16 weights: 4 quant dwords
          const int j = 8 * h + 2 * n + half;
          __m512i sum[C];
          for (int i = 4 * half; i < 4 * half + 4; ++i) {
            const __m512i q = quants(sb, h, n, i);
            for (int t = 0; t < C; ++t) {
              const __m512i x = bcast_qs(a[t][b], 4 * (32 * h + 8 * n + i));
              sum[t] = i == 4 * half ? dpbusd0(q, x) : _mm512_dpbusd_epi32(sum[t], q, x);
            }
          }
          for (int t = 0; t < C; ++t) tmp[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), s.dsc[j], tmp[t]);
        }
      }
    }
    for (int t = 0; t < C; ++t) acc[t] = _mm512_fmadd_ps(tmp[t], _mm512_set1_ps(a[t][b].d), acc[t]);
  }
};

// C <= 4 tokens from c0 against the group at `group` (rows r0 ..), straight from registers.
template <class U, int C>
void direct(const GemmArgs& g, const uint8_t* group, int64_t r0, int64_t c0, __mmask16 mask) {
  const BlockQ8_K* a[C];
  for (int t = 0; t < C; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(g.a + (c0 + t) * g.a_stride);
  __m512 acc[C];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < g.k / kSuperBlockSize; ++b) {
    const uint8_t* sb = group + b * U::kBytes;
    prefetch_lines(sb + kPrefetchAhead * U::kBytes, U::kBytes);
    U::template accumulate<C>(sb, a, b, acc);
  }
  for (int t = 0; t < C; ++t) _mm512_mask_storeu_ps(g.out + (c0 + t) * g.out_stride + r0, mask, acc[t]);
}

// Tokens 0 .. n8 - 1 (n8 a multiple of 8) of the group at `group` (rows r0 ..) by U's unpack and
// tokens8, as rows16 does for the file's layout.
template <class U, class Rows16>
void rows16_interleaved(const GemmArgs& g, const uint8_t* group, int64_t r0, int64_t n8, __mmask16 mask) {
  typename U::Unpacked u[U::kChunk];
  const int64_t nb = g.k / kSuperBlockSize;
  for (int64_t b0 = 0; b0 < nb; b0 += U::kChunk) {
    const int n = static_cast<int>(nb - b0 < U::kChunk ? nb - b0 : U::kChunk);
    for (int s = 0; s < n; ++s) U::unpack(group + (b0 + s) * U::kBytes, u[s]);
    for (int64_t c0 = 0; c0 < n8; c0 += 8) {
      __m512 acc[8];
      for (int t = 0; t < 8; ++t) {
        acc[t] = b0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, g.out + (c0 + t) * g.out_stride + r0);
      }
      Rows16::tokens8(g, c0, b0, n, u, acc);
      for (int t = 0; t < 8; ++t) _mm512_mask_storeu_ps(g.out + (c0 + t) * g.out_stride + r0, mask, acc[t]);
    }
  }
}

// g.w in the interleaved layout (16-row groups of 16 * w_stride bytes): groups of 8 tokens through
// the unpacked buffer, the rest 4 tokens at a time from registers.
template <class U, class Rows16>
void gemm_interleaved(const GemmArgs& g) {
  using Direct = void (*)(const GemmArgs&, const uint8_t*, int64_t, int64_t, __mmask16);
  static constexpr Direct kDirect[5] = {nullptr, direct<U, 1>, direct<U, 2>, direct<U, 3>, direct<U, 4>};
  const int64_t n8 = g.n_cols / 8 * 8;
  for (int64_t r0 = 0; r0 < g.n_rows; r0 += 16) {
    const uint8_t* group = g.w + r0 * g.w_stride;
    const __mmask16 mask = group_mask(g, r0);
    if (n8 > 0) rows16_interleaved<U, Rows16>(g, group, r0, n8, mask);
    for (int64_t c0 = n8; c0 < g.n_cols; c0 += 4) kDirect[g.n_cols - c0 < 4 ? g.n_cols - c0 : 4](g, group, r0, c0, mask);
  }
}

void gemm_q4_K(const GemmArgs& g) { gemm_rows16<K4Rows16<false>, K4<false>::Wide, K4<false>::Narrow>(g); }
void gemm_q5_K(const GemmArgs& g) { gemm_rows16<K4Rows16<true>, K4<true>::Wide, K4<true>::Narrow>(g); }
void gemm_q6_K(const GemmArgs& g) { gemm_rows16<Q6Rows16, Q6::Wide, Q6::Narrow>(g); }

}  // namespace

void fill_avx512_kquants(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q4_K};
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q5_K};
  t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm_q6_K};
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ4_K)] = {ActFormat::kQ8K, quantize_act_q8_K,
                                                             gemm_interleaved<K4Interleaved<false>, K4Rows16<false>>};
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ5_K)] = {ActFormat::kQ8K, quantize_act_q8_K,
                                                             gemm_interleaved<K4Interleaved<true>, K4Rows16<true>>};
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ6_K)] = {ActFormat::kQ8K, quantize_act_q8_K,
                                                             gemm_interleaved<Q6Interleaved, Q6Rows16>};
}

}  // namespace rf::cpu
