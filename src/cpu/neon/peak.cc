// Roofline loops for arm64: FMLA on 4-float vectors and SDOT on 16 int8 lanes.
#include <arm_neon.h>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kChains = 8;

float fp32_fma(int64_t iterations) {
  float32x4_t acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = vdupq_n_f32(static_cast<float>(c));
  const float32x4_t a = vdupq_n_f32(0.999f);
  const float32x4_t b = vdupq_n_f32(1e-3f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (float32x4_t& x : acc) x = vfmaq_f32(b, x, a);
  }
  float32x4_t sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = vaddq_f32(sum, acc[c]);
  return vaddvq_f32(sum);
}

float int8_dot(int64_t iterations) {
  int32x4_t acc[kChains];
  for (int32x4_t& x : acc) x = vdupq_n_s32(0);
  const int8x16_t a = vdupq_n_s8(3);
  const int8x16_t b = vdupq_n_s8(5);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int32x4_t& x : acc) x = vdotq_s32(x, a, b);
  }
  int32x4_t sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = vaddq_s32(sum, acc[c]);
  return static_cast<float>(vaddvq_s32(sum));
}

float stream_read(const uint8_t* data, int64_t bytes) {
  uint8x16_t acc[4];
  for (uint8x16_t& x : acc) x = vdupq_n_u8(0);
  for (int64_t i = 0; i < bytes; i += 64) {
    for (int j = 0; j < 4; ++j) acc[j] = veorq_u8(acc[j], vld1q_u8(data + i + 16 * j));
  }
  const uint8x16_t x = veorq_u8(veorq_u8(acc[0], acc[1]), veorq_u8(acc[2], acc[3]));
  return static_cast<float>(vaddvq_u8(x));
}

}  // namespace

void fill_neon_peak(KernelTable& t) {
  t.peak = {fp32_fma, int8_dot, nullptr, stream_read, kChains * 8.0, kChains * 32.0, 0.0};
}

}  // namespace rf::cpu
