// float weight kernels for neon: f32/f16/bf16 weights times f32 activations with FMA, register-tiled.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kLanes = 4;

// Four weights widened to f32: f16 by FCVTL, bf16 by moving its bits to the top half.
struct F32 {
  using T = float;
  static float32x4_t load(const float* p) { return vld1q_f32(p); }
};
struct F16 {
  using T = uint16_t;
  static float32x4_t load(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
};
struct BF16 {
  using T = uint16_t;
  static float32x4_t load(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
};

// The last k % 4 elements, zero-padded to a full vector.
template <class W>
float32x4_t load_tail(const typename W::T* p, int64_t n) {
  typename W::T buf[kLanes] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(typename W::T));
  return W::load(buf);
}

// [Σa, Σb, Σc, Σd] of four accumulators.
float32x4_t reduce4(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t d) {
  return vpaddq_f32(vpaddq_f32(a, b), vpaddq_f32(c, d));
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
  float32x4_t acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = vdupq_n_f32(0.0f);
  }
  const int64_t k = g.k;
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    float32x4_t wv[R];
    for (int r = 0; r < R; ++r) wv[r] = W::load(wr[r] + i);
    for (int c = 0; c < C; ++c) {
      const float32x4_t av = vld1q_f32(ac[c] + i);
      for (int r = 0; r < R; ++r) acc[r][c] = vfmaq_f32(acc[r][c], wv[r], av);
    }
  }
  if (i < k) {
    float32x4_t wv[R];
    for (int r = 0; r < R; ++r) wv[r] = load_tail<W>(wr[r] + i, k - i);
    for (int c = 0; c < C; ++c) {
      const float32x4_t av = load_tail<F32>(ac[c] + i, k - i);
      for (int r = 0; r < R; ++r) acc[r][c] = vfmaq_f32(acc[r][c], wv[r], av);
    }
  }
  const float32x4_t zero = vdupq_n_f32(0.0f);
  for (int c = 0; c < C; ++c) {
    float* o = out + c * g.out_stride;
    for (int r0 = 0; r0 < R; r0 += 4) {
      const auto pick = [&](int r) { return r < R ? acc[r][c] : zero; };
      float sums[4];
      vst1q_f32(sums, reduce4(pick(r0), pick(r0 + 1), pick(r0 + 2), pick(r0 + 3)));
      for (int r = r0; r < R && r < r0 + 4; ++r) o[r] = sums[r - r0];
    }
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

// Tiles of up to R rows x C tokens over the whole call; rows inner, so the C activation rows
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

// Decode: 8 rows per pass share each activation load and keep 8 FMA chains in flight. Prefill:
// 4 rows x 5 tokens = 20 accumulators + 4 weight vectors + 1 activation of the 32 registers.
template <class W>
void gemm(const GemmArgs& g) {
  if (g.n_cols == 1) {
    gemm_tiles<W, 8, 1>(g);
  } else {
    gemm_tiles<W, 4, 5>(g);
  }
}

void copy_act(const float* x, uint8_t* out, int64_t k) {
  std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float));
}

}  // namespace

void fill_neon_float(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kF32)] = {ActFormat::kF32, copy_act, gemm<F32>};
  t.gemm[static_cast<uint32_t>(DType::kF16)] = {ActFormat::kF32, copy_act, gemm<F16>};
  t.gemm[static_cast<uint32_t>(DType::kBF16)] = {ActFormat::kF32, copy_act, gemm<BF16>};
}

}  // namespace rf::cpu
