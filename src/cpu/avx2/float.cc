// float weight kernels for avx2: f32/f16/bf16 weights times f32 activations with FMA, register-tiled.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kLanes = 8;
// Decode prefetches 16-bit weight rows this far ahead: 16 lines, measured best of 512 .. 2048
// (the hardware prefetchers alone left f16 and bf16 decode at ~60 % of the read bandwidth).
constexpr int kPrefetchBytes = 1024;

// Eight weights widened to f32: f16 through F16C, bf16 by moving its bits to the top half.
struct F32 {
  using T = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
};
struct F16 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct BF16 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
};

// The last k % 8 elements, zero-padded to a full vector.
template <class W>
__m256 load_tail(const typename W::T* p, int64_t n) {
  alignas(32) typename W::T buf[kLanes] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(typename W::T));
  return W::load(buf);
}

// [Σa, Σb, Σc, Σd] of four 8-lane accumulators.
__m128 reduce4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// out[c * out_stride + r] for the R x C tile whose weight rows start at w and activation rows at
// a: one accumulator per (row, token), each weight vector loaded once and used C times.
template <class W, int R, int C>
void tile(const GemmArgs& g, const uint8_t* w, const uint8_t* a, float* out) {
  using T = typename W::T;
  const T* wr[R];
  const float* ac[C];
  for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const T*>(w + static_cast<uint64_t>(r) * g.w_stride);
  for (int c = 0; c < C; ++c) ac[c] = reinterpret_cast<const float*>(a + static_cast<uint64_t>(c) * g.a_stride);
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  }
  const int64_t k = g.k;
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = W::load(wr[r] + i);
    for (int c = 0; c < C; ++c) {
      const __m256 av = _mm256_loadu_ps(ac[c] + i);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
    }
  }
  if (i < k) {
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = load_tail<W>(wr[r] + i, k - i);
    for (int c = 0; c < C; ++c) {
      const __m256 av = load_tail<F32>(ac[c] + i, k - i);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
    }
  }
  const __m256 zero = _mm256_setzero_ps();
  for (int c = 0; c < C; ++c) {
    float* o = out + c * g.out_stride;
    for (int r0 = 0; r0 < R; r0 += 4) {
      const auto pick = [&](int r) { return r < R ? acc[r][c] : zero; };
      alignas(16) float sums[4];
      _mm_store_ps(sums, reduce4(pick(r0), pick(r0 + 1), pick(r0 + 2), pick(r0 + 3)));
      for (int r = r0; r < R && r < r0 + 4; ++r) o[r] = sums[r - r0];
    }
  }
}

// One token: R weight rows stream past one activation row, a 64-byte line of each row per step
// into one accumulator per row (8 chains; plenty next to the memory time). 16-bit rows cost more
// instructions per byte, so the out-of-order window covers fewer lines: they are prefetched ahead.
template <class W, int R>
void tile_decode(const GemmArgs& g, const uint8_t* w, const uint8_t* a, float* out) {
  using T = typename W::T;
  constexpr int kSub = 64 / (kLanes * static_cast<int>(sizeof(T)));
  const T* wr[R];
  for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const T*>(w + static_cast<uint64_t>(r) * g.w_stride);
  const auto* x = reinterpret_cast<const float*>(a);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const int64_t k = g.k;
  int64_t i = 0;
  for (; i + kSub * kLanes <= k; i += kSub * kLanes) {
    if constexpr (sizeof(T) == 2) {
      for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(wr[r] + i) + kPrefetchBytes, _MM_HINT_T0);
    }
    __m256 av[kSub];
    for (int s = 0; s < kSub; ++s) av[s] = _mm256_loadu_ps(x + i + s * kLanes);
    for (int r = 0; r < R; ++r) {
      for (int s = 0; s < kSub; ++s) acc[r] = _mm256_fmadd_ps(W::load(wr[r] + i + s * kLanes), av[s], acc[r]);
    }
  }
  for (; i + kLanes <= k; i += kLanes) {
    const __m256 av = _mm256_loadu_ps(x + i);
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(W::load(wr[r] + i), av, acc[r]);
  }
  if (i < k) {
    const __m256 av = load_tail<F32>(x + i, k - i);
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(load_tail<W>(wr[r] + i, k - i), av, acc[r]);
  }
  for (int r0 = 0; r0 < R; r0 += 4) {
    const auto pick = [&](int r) { return r < R ? acc[r] : _mm256_setzero_ps(); };
    alignas(16) float sums[4];
    _mm_store_ps(sums, reduce4(pick(r0), pick(r0 + 1), pick(r0 + 2), pick(r0 + 3)));
    for (int r = r0; r < R && r < r0 + 4; ++r) out[r] = sums[r - r0];
  }
}

using TileFn = void (*)(const GemmArgs&, const uint8_t*, const uint8_t*, float*);

// fn[R' - 1][C' - 1] = tile<W, R', C'>, so edge tiles of any shape stay register-resident too.
template <int R, int C>
struct Tiles {
  TileFn fn[R][C];
};
template <class W, int R, int C, int... I>
constexpr Tiles<R, C> make_tiles(std::integer_sequence<int, I...>) {
  Tiles<R, C> t{};
  ((t.fn[I / C][I % C] = tile<W, I / C + 1, I % C + 1>), ...);
  return t;
}

// Runs tiles of up to R rows x C tokens over the whole call; rows inner, so the C activation rows
// stay in L1 while up to 16 weight rows pass them.
template <class W, int R, int C>
void gemm_tiles(const GemmArgs& g) {
  static constexpr Tiles<R, C> tiles = make_tiles<W, R, C>(std::make_integer_sequence<int, R * C>{});
  for (int64_t c0 = 0; c0 < g.n_cols; c0 += C) {
    const int64_t nc = g.n_cols - c0 < C ? g.n_cols - c0 : C;
    const uint8_t* a = g.a + static_cast<uint64_t>(c0) * g.a_stride;
    for (int64_t r0 = 0; r0 < g.n_rows; r0 += R) {
      const int64_t nr = g.n_rows - r0 < R ? g.n_rows - r0 : R;
      tiles.fn[nr - 1][nc - 1](g, g.w + static_cast<uint64_t>(r0) * g.w_stride, a, g.out + c0 * g.out_stride + r0);
    }
  }
}

// One token: rows in passes of up to R; fns[R' - 1] = tile_decode<W, R'>.
template <class W, int R, int... I>
constexpr std::array<TileFn, R> make_decode_tiles(std::integer_sequence<int, I...>) {
  return {tile_decode<W, I + 1>...};
}
template <class W, int R>
void gemm_decode(const GemmArgs& g) {
  static constexpr std::array<TileFn, R> fns = make_decode_tiles<W, R>(std::make_integer_sequence<int, R>{});
  for (int64_t r0 = 0; r0 < g.n_rows; r0 += R) {
    const int64_t nr = g.n_rows - r0 < R ? g.n_rows - r0 : R;
    fns[static_cast<size_t>(nr - 1)](g, g.w + static_cast<uint64_t>(r0) * g.w_stride, g.a, g.out + r0);
  }
}

// Decode (one token) is bound by streaming weights: 8 rows per pass share each activation load
// (2, 4 and 6 rows streamed slower). Prefill: 3 rows x 4 tokens = 12 accumulators + 3 weight
// vectors + 1 activation fill the 16 registers.
template <class W>
void gemm(const GemmArgs& g) {
  if (g.n_cols == 1) {
    gemm_decode<W, 8>(g);
  } else {
    gemm_tiles<W, 3, 4>(g);
  }
}

void copy_act(const float* x, uint8_t* out, int64_t k) {
  std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float));
}

}  // namespace

void fill_avx2_float(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kF32)] = {ActFormat::kF32, copy_act, gemm<F32>};
  t.gemm[static_cast<uint32_t>(DType::kF16)] = {ActFormat::kF32, copy_act, gemm<F16>};
  t.gemm[static_cast<uint32_t>(DType::kBF16)] = {ActFormat::kF32, copy_act, gemm<BF16>};
}

}  // namespace rf::cpu
