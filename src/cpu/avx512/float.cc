// float weight kernels for avx512: f32/f16 weights with FMA, bf16 weights with VDPBF16PS; register-tiled,
// over weights in the file's rows or (f16, bf16) the 16-row interleaved layout of cpu/repack.h.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kLanes = 16;
// Decode prefetches f16 weight rows this far ahead: 16 lines, measured best of 512 .. 2048 (the
// hardware prefetchers alone left f16 decode at ~60 % of the read bandwidth).
constexpr int kPrefetchBytes = 1024;

// Sixteen weights widened to f32 (f16 through F16C); `n` < 16 loads only the first n, zeros after.
struct F32 {
  using T = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load(const float* p, int64_t n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
};
struct F16 {
  using T = uint16_t;
  static __m512 load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const uint16_t* p, int64_t n) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1), p));
  }
};

// Where a tile's weight rows keep their elements: element i of row r of a tile whose first row is at
// w0 lies at w0 + L::row(r, w_stride) + L::at(i) (in elements). Tiles never cross a 16-row group.
struct RowMajor {
  static uint64_t tile_offset(int64_t r0, uint64_t w_stride) { return static_cast<uint64_t>(r0) * w_stride; }
  static int64_t row(int r, uint64_t w_stride, int64_t elem_bytes) {
    return r * static_cast<int64_t>(w_stride) / elem_bytes;
  }
  static constexpr int64_t at(int64_t i) { return i; }
};
// 16-bit weights interleaved (cpu/repack.h): 1 KiB chunks, each 32 elements of every row of the group.
struct Interleaved16 {
  static constexpr int64_t kChunk = 32;
  static constexpr int kGroup = 16;
  static uint64_t tile_offset(int64_t r0, uint64_t w_stride) {
    return static_cast<uint64_t>(r0 / kGroup * kGroup) * w_stride + static_cast<uint64_t>(r0 % kGroup) * kChunk * 2;
  }
  static constexpr int64_t row(int r, uint64_t, int64_t) { return r * kChunk; }
  // i >= 0: shifts, not signed division.
  static constexpr int64_t at(int64_t i) { return (i >> 5) * kGroup * kChunk + (i & (kChunk - 1)); }
};

// [Σa, Σb, Σc, Σd] of four 16-lane accumulators: fold 128-bit quarters pairwise (a and b share one
// register, c and d another), then the four lanes left in each quarter.
__m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(3, 2, 3, 2)));
  // Quarter q now holds 4 partial sums of input q (a, b, c, d).
  __m512 s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, _MM_SHUFFLE(2, 3, 0, 1)));
  const __m512i first_lanes = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps128(_mm512_permutexvar_ps(first_lanes, s));
}

// Writes the R x C tile of dot products: out[c * out_stride + r] = Σ acc[r][c]. Inlined, so the
// accumulators never need an address (GCC 12 would otherwise store them in every VDPBF16PS step).
template <int R, int C>
__attribute__((always_inline)) inline void store_tile(const __m512 (&acc)[R][C], float* out, int64_t out_stride) {
  const __m512 zero = _mm512_setzero_ps();
  for (int c = 0; c < C; ++c) {
    float* o = out + c * out_stride;
    for (int r0 = 0; r0 < R; r0 += 4) {
      const auto pick = [&](int r) { return r < R ? acc[r][c] : zero; };
      const int n = R - r0 < 4 ? R - r0 : 4;
      _mm_mask_storeu_ps(o + r0, static_cast<__mmask8>((1u << n) - 1),
                         reduce4(pick(r0), pick(r0 + 1), pick(r0 + 2), pick(r0 + 3)));
    }
  }
}

// R weight rows x C f32 activation rows: one accumulator per (row, token), each weight vector
// loaded (and widened) once and used C times.
template <class W, class L, int R, int C>
void tile_fma(const GemmArgs& g, const uint8_t* w, const uint8_t* a, float* out) {
  using T = typename W::T;
  static_assert(std::is_same_v<L, RowMajor> || sizeof(T) == 2, "only 16-bit weights are interleaved");
  const auto* w0 = reinterpret_cast<const T*>(w);
  int64_t row[R];
  const float* ac[C];
  for (int r = 0; r < R; ++r) row[r] = L::row(r, g.w_stride, sizeof(T));
  for (int c = 0; c < C; ++c) ac[c] = reinterpret_cast<const float*>(a + static_cast<uint64_t>(c) * g.a_stride);
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  }
  const int64_t k = g.k;
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    __m512 wv[R];
    const T* wi = w0 + L::at(i);
    for (int r = 0; r < R; ++r) wv[r] = W::load(wi + row[r]);
    for (int c = 0; c < C; ++c) {
      const __m512 av = _mm512_loadu_ps(ac[c] + i);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
    }
  }
  if (i < k) {
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = W::load(w0 + L::at(i) + row[r], k - i);
    for (int c = 0; c < C; ++c) {
      const __m512 av = F32::load(ac[c] + i, k - i);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
    }
  }
  store_tile<R, C>(acc, out, g.out_stride);
}

// One token: R weight rows stream past one activation row, a 64-byte line of each row per step
// (f16: two vectors into the row's one accumulator; R = 8 chains keep the FMA unit busy). f16 rows cost more
// instructions per byte, so the out-of-order window covers fewer lines: rows of the file's layout are
// prefetched ahead (interleaved rows are one sequential stream the hardware prefetcher follows).
template <class W, class L, int R>
void tile_decode(const GemmArgs& g, const uint8_t* w, const uint8_t* a, float* out) {
  using T = typename W::T;
  constexpr int kSub = 64 / (kLanes * static_cast<int>(sizeof(T)));
  constexpr int kStep = kSub * kLanes;
  const auto* w0 = reinterpret_cast<const T*>(w);
  int64_t row[R];
  for (int r = 0; r < R; ++r) row[r] = L::row(r, g.w_stride, sizeof(T));
  const auto* x = reinterpret_cast<const float*>(a);
  __m512 acc[R][1];
  for (int r = 0; r < R; ++r) acc[r][0] = _mm512_setzero_ps();
  const int64_t k = g.k;
  int64_t i = 0;
  for (; i + kStep <= k; i += kStep) {
    const T* wi = w0 + L::at(i);  // a step never leaves a chunk
    if constexpr (sizeof(T) == 2 && std::is_same_v<L, RowMajor>) {
      for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(wi + row[r]) + kPrefetchBytes, _MM_HINT_T0);
    }
    __m512 av[kSub];
    for (int s = 0; s < kSub; ++s) av[s] = _mm512_loadu_ps(x + i + s * kLanes);
    // One chain per row, weights in order: the same sums as the multi-token tiles, so a token's
    // result does not depend on how many tokens share the call.
    for (int r = 0; r < R; ++r) {
      for (int s = 0; s < kSub; ++s) acc[r][0] = _mm512_fmadd_ps(W::load(wi + row[r] + s * kLanes), av[s], acc[r][0]);
    }
  }
  for (; i < k; i += kLanes) {
    const int64_t n = k - i < kLanes ? k - i : kLanes;
    const __m512 av = F32::load(x + i, n);
    for (int r = 0; r < R; ++r) acc[r][0] = _mm512_fmadd_ps(W::load(w0 + L::at(i) + row[r], n), av, acc[r][0]);
  }
  store_tile<R, 1>(acc, out, g.out_stride);
}

// bf16 weights x bf16 activations, R rows x C tokens as tile_fma: VDPBF16PS multiplies 32 pairs
// exactly and adds them, two per f32 lane, into the accumulators.
template <class L, int R, int C>
__attribute__((target("avx512bf16"))) void tile_bf16(const GemmArgs& g, const uint8_t* w, const uint8_t* a,
                                                     float* out) {
  constexpr int kPairs = 2 * kLanes;
  const auto* w0 = reinterpret_cast<const uint16_t*>(w);
  int64_t row[R];
  const uint16_t* ac[C];
  for (int r = 0; r < R; ++r) row[r] = L::row(r, g.w_stride, sizeof(uint16_t));
  for (int c = 0; c < C; ++c) ac[c] = reinterpret_cast<const uint16_t*>(a + static_cast<uint64_t>(c) * g.a_stride);
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  }
  const int64_t k = g.k;
  int64_t i = 0;
  for (; i + kPairs <= k; i += kPairs) {
    __m512i wv[R];
    const uint16_t* wi = w0 + L::at(i);
    for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_si512(wi + row[r]);
    for (int c = 0; c < C; ++c) {
      const __m512i av = _mm512_loadu_si512(ac[c] + i);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)wv[r], (__m512bh)av);
    }
  }
  if (i < k) {
    // The last k % 32 elements, zeros after them.
    const auto mask = static_cast<__mmask32>((uint64_t{1} << (k - i)) - 1);
    __m512i wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_epi16(mask, w0 + L::at(i) + row[r]);
    for (int c = 0; c < C; ++c) {
      const __m512i av = _mm512_maskz_loadu_epi16(mask, ac[c] + i);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)wv[r], (__m512bh)av);
    }
  }
  store_tile<R, C>(acc, out, g.out_stride);
}

using TileFn = void (*)(const GemmArgs&, const uint8_t*, const uint8_t*, float*);

// fn[R' - 1][C' - 1] = the R' x C' tile, so edge tiles of any shape stay register-resident too.
template <int R, int C>
struct Tiles {
  TileFn fn[R][C];
};
template <template <int, int> class Tile, int R, int C, int... I>
constexpr Tiles<R, C> make_tiles(std::integer_sequence<int, I...>) {
  Tiles<R, C> t{};
  ((t.fn[I / C][I % C] = Tile<I / C + 1, I % C + 1>::run), ...);
  return t;
}
template <class W, class L>
struct Fma {
  template <int R, int C>
  struct Tile {
    static constexpr TileFn run = tile_fma<W, L, R, C>;
  };
};
template <class W, class L>
struct Decode {
  template <int R, int C>
  struct Tile {
    static_assert(C == 1);
    static constexpr TileFn run = tile_decode<W, L, R>;
  };
};
template <class L>
struct Bf16 {
  template <int R, int C>
  struct Tile {
    static constexpr TileFn run = tile_bf16<L, R, C>;
  };
};

// Tiles of up to R rows x C tokens over the whole call; rows inner, so the C activation rows
// stay in L1 while up to 16 weight rows pass them.
template <template <int, int> class Tile, class L, int R, int C>
void run_tiles(const GemmArgs& g) {
  static constexpr Tiles<R, C> tiles = make_tiles<Tile, R, C>(std::make_integer_sequence<int, R * C>{});
  for (int64_t c0 = 0; c0 < g.n_cols; c0 += C) {
    const int64_t nc = g.n_cols - c0 < C ? g.n_cols - c0 : C;
    const uint8_t* a = g.a + static_cast<uint64_t>(c0) * g.a_stride;
    for (int64_t r0 = 0; r0 < g.n_rows; r0 += R) {
      const int64_t nr = g.n_rows - r0 < R ? g.n_rows - r0 : R;
      tiles.fn[nr - 1][nc - 1](g, g.w + L::tile_offset(r0, g.w_stride), a, g.out + c0 * g.out_stride + r0);
    }
  }
}

// Decode (one token) is bound by streaming weights: in the file's layout 8 rows per pass share each
// activation load (4 and 16 streamed slower); interleaved, a pass takes a whole 16-row group, one
// stream. Prefill: 4 rows x 6 tokens = 24 accumulators, with 4 weight vectors and 1 activation, in
// the 32 registers; 10 loads per 24 FMAs (6x4, 5x5 and 3x8 measured slower).
template <template <int, int> class Tile, template <int, int> class DecodeTile, class L>
void gemm(const GemmArgs& g) {
  if (g.n_cols == 1) {
    run_tiles<DecodeTile, L, std::is_same_v<L, RowMajor> ? 8 : Interleaved16::kGroup, 1>(g);
  } else {
    run_tiles<Tile, L, 4, 6>(g);
  }
}

void copy_act(const float* x, uint8_t* out, int64_t k) {
  std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float));
}

// f32 -> bf16 rounded to nearest even, bit-exact with rf::f32_to_bf16 (NaN kept quiet, subnormals
// kept): add 0x7fff plus the lowest kept bit, keep the top half.
__m256i round_to_bf16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(r);
}

void quantize_bf16(const float* x, uint8_t* out, int64_t k) {
  auto* o = reinterpret_cast<uint16_t*>(out);
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + i), round_to_bf16(_mm512_loadu_ps(x + i)));
  }
  if (i < k) {
    const auto mask = static_cast<__mmask16>((1u << (k - i)) - 1);
    _mm256_mask_storeu_epi16(o + i, mask, round_to_bf16(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

}  // namespace

// bf16 weights take the VDPBF16PS path only where the CPU has it; elsewhere the AVX2 entry stays.
void fill_avx512_float(KernelTable& t) {
  constexpr auto f16 = static_cast<uint32_t>(DType::kF16);
  t.gemm[static_cast<uint32_t>(DType::kF32)] = {ActFormat::kF32, copy_act,
                                                gemm<Fma<F32, RowMajor>::Tile, Decode<F32, RowMajor>::Tile, RowMajor>};
  t.gemm[f16] = {ActFormat::kF32, copy_act, gemm<Fma<F16, RowMajor>::Tile, Decode<F16, RowMajor>::Tile, RowMajor>};
  t.gemm_interleaved[f16] = {ActFormat::kF32, copy_act,
                             gemm<Fma<F16, Interleaved16>::Tile, Decode<F16, Interleaved16>::Tile, Interleaved16>};
  if (__builtin_cpu_supports("avx512bf16")) {
    constexpr auto bf16 = static_cast<uint32_t>(DType::kBF16);
    t.gemm[bf16] = {ActFormat::kBF16, quantize_bf16, gemm<Bf16<RowMajor>::Tile, Bf16<RowMajor>::Tile, RowMajor>};
    t.gemm_interleaved[bf16] = {ActFormat::kBF16, quantize_bf16,
                                gemm<Bf16<Interleaved16>::Tile, Bf16<Interleaved16>::Tile, Interleaved16>};
  }
}

}  // namespace rf::cpu
