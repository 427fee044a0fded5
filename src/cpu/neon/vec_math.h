// exp on 4 floats and partial loads for the NEON files only (internal linkage: never shared across ISAs).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace rf::cpu {
namespace {

// e^x: n = round(x log2 e), r = x - n ln 2 (two-part ln 2), Cephes' degree-7 polynomial for e^r on
// |r| <= ln2/2, then times 2^(n/2) * 2^(n - n/2) (two factors so that n from -150 to 128 works:
// subnormal results and overflow to inf). Relative error <= 2e-7 (measured 1.2e-7) where the
// result is a normal float. -inf and NaN give 0.
inline float32x4_t exp4(float32x4_t x) {
  x = vmaxnmq_f32(x, vdupq_n_f32(-104.0f));  // maxNum: NaN -> -104
  x = vminq_f32(x, vdupq_n_f32(88.8f));
  const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
  r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
  p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
  p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
  const int32x4_t ni = vcvtq_s32_f32(n);  // exact: n is integral
  const int32x4_t n1 = vshrq_n_s32(ni, 1);
  const int32x4_t n2 = vsubq_s32(ni, n1);
  const int32x4_t bias = vdupq_n_s32(127);
  const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
  const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
  return vmulq_f32(vmulq_f32(p, s1), s2);
}

// The first n <= 4 floats at p; lanes past n hold `fill`.
inline float32x4_t load_n(const float* p, int64_t n, float fill = 0.0f) {
  if (n >= 4) return vld1q_f32(p);
  float t[4] = {fill, fill, fill, fill};
  std::memcpy(t, p, static_cast<size_t>(n) * sizeof(float));
  return vld1q_f32(t);
}

inline void store_n(float* p, float32x4_t v, int64_t n) {
  if (n >= 4) {
    vst1q_f32(p, v);
    return;
  }
  float t[4];
  vst1q_f32(t, v);
  std::memcpy(p, t, static_cast<size_t>(n) * sizeof(float));
}

}  // namespace
}  // namespace rf::cpu
