// float weight kernels for scalar: f32/f16/bf16 weights times f32 activations, the reference level.
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

// Partial sums per dot product: independent chains the compiler can keep in one or two vector
// registers without reassociating (no -ffast-math needed), and a shorter rounding chain.
constexpr int kLanes = 8;

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE half -> f32, exact for every input, branch-free (masks, not selects) so loops over it
// vectorise. Moves exponent and mantissa up 13 bits and rebiases the exponent (15 -> 127); inf/NaN
// get the full f32 exponent; subnormals are rebuilt as (2^-14 + m * 2^-24) - 2^-14, which is exact.
float half_to_float(uint16_t h) {
  constexpr uint32_t kShiftedExp = 0x7c00u << 13;
  uint32_t u = static_cast<uint32_t>(h & 0x7fffu) << 13;
  const uint32_t exp = u & kShiftedExp;
  const uint32_t inf_nan = 0u - static_cast<uint32_t>(exp == kShiftedExp);
  const uint32_t subnormal = 0u - static_cast<uint32_t>(exp == 0);
  u += ((127u - 15u) << 23) + (inf_nan & ((128u - 16u) << 23)) + (subnormal & (1u << 23));
  const float f = bits_to_float(u) - bits_to_float(subnormal & (113u << 23));
  uint32_t v;
  std::memcpy(&v, &f, sizeof v);
  return bits_to_float(v | (static_cast<uint32_t>(h & 0x8000u) << 16));
}

// bfloat16 is the top half of an f32.
float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

struct F32 {
  using T = float;
  static float load(float x) { return x; }
};
struct F16 {
  using T = uint16_t;
  static float load(uint16_t x) { return half_to_float(x); }
};
struct BF16 {
  using T = uint16_t;
  static float load(uint16_t x) { return bf16_to_float(x); }
};

template <class W>
float dot(const typename W::T* w, const float* a, int64_t k) {
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) s[j] += W::load(w[i + j]) * a[i + j];
  }
  for (int j = 0; i < k; ++i, ++j) s[j] += W::load(w[i]) * a[i];
  // Pairwise, in a fixed order.
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

// Rows and activations are read through memcpy-free typed pointers: f32/f16/bf16 rows only need
// their element alignment, which GGUF's 32-byte tensor alignment and row sizes guarantee.
template <class W>
void gemm(const GemmArgs& g) {
  for (int64_t c = 0; c < g.n_cols; ++c) {
    const auto* a = reinterpret_cast<const float*>(g.a + static_cast<uint64_t>(c) * g.a_stride);
    for (int64_t r = 0; r < g.n_rows; ++r) {
      const auto* w = reinterpret_cast<const typename W::T*>(g.w + static_cast<uint64_t>(r) * g.w_stride);
      g.out[c * g.out_stride + r] = dot<W>(w, a, g.k);
    }
  }
}

void copy_act(const float* x, uint8_t* out, int64_t k) {
  std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float));
}

}  // namespace

void fill_scalar_float(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kF32)] = {ActFormat::kF32, copy_act, gemm<F32>};
  t.gemm[static_cast<uint32_t>(DType::kF16)] = {ActFormat::kF32, copy_act, gemm<F16>};
  t.gemm[static_cast<uint32_t>(DType::kBF16)] = {ActFormat::kF32, copy_act, gemm<BF16>};
}

}  // namespace rf::cpu
