// Element-wise operators for NEON: 4 floats per vector, tails through a padded copy, polynomial exp.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>

#include "cpu/kernel_families.h"
#include "cpu/neon/vec_math.h"

namespace rf::cpu {
namespace {

constexpr int64_t kLanes = 4;

// Calls f(i, count) over [0, n) in vectors of 4; the last may hold fewer (count < 4).
template <class F>
void for_vectors(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) f(i, kLanes);
  if (i < n) f(i, n - i);
}

float sum_squares(const float* x, int64_t n) {
  float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int j = 0; j < 4; ++j) {
      const float32x4_t v = vld1q_f32(x + i + j * kLanes);
      acc[j] = vfmaq_f32(acc[j], v, v);
    }
  }
  for_vectors(n - i, [&](int64_t k, int64_t c) {
    const float32x4_t v = load_n(x + i + k, c);
    acc[0] = vfmaq_f32(acc[0], v, v);
  });
  return vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
}

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  const double mean_sq = static_cast<double>(sum_squares(x, n)) / static_cast<double>(n);
  const auto scale = static_cast<float>(1.0 / std::sqrt(mean_sq + eps));
  for_vectors(n, [&](int64_t i, int64_t c) {
    store_n(out + i, vmulq_f32(vmulq_n_f32(load_n(x + i, c), scale), load_n(weight + i, c)), c);
  });
}

void layer_norm(const float* x, const float* weight, const float* bias, float* out, int64_t n, float eps) {
  float32x4_t sum = vdupq_n_f32(0);
  for_vectors(n, [&](int64_t i, int64_t c) { sum = vaddq_f32(sum, load_n(x + i, c)); });
  const float mean = vaddvq_f32(sum) / static_cast<float>(n);
  float32x4_t var = vdupq_n_f32(0);
  for_vectors(n, [&](int64_t i, int64_t c) {
    const float32x4_t d = vsubq_f32(load_n(x + i, c, mean), vdupq_n_f32(mean));  // padding lanes give 0
    var = vfmaq_f32(var, d, d);
  });
  const double variance = static_cast<double>(vaddvq_f32(var)) / static_cast<double>(n);
  const auto inv = static_cast<float>(1.0 / std::sqrt(variance + eps));
  for_vectors(n, [&](int64_t i, int64_t c) {
    const float32x4_t d = vmulq_n_f32(vsubq_f32(load_n(x + i, c), vdupq_n_f32(mean)), inv);
    store_n(out + i, vfmaq_f32(load_n(bias + i, c), d, load_n(weight + i, c)), c);
  });
}

void softmax(float* x, int64_t n) {
  float32x4_t max_v = vdupq_n_f32(-INFINITY);
  for_vectors(n, [&](int64_t i, int64_t c) { max_v = vmaxq_f32(max_v, load_n(x + i, c, -INFINITY)); });
  const float32x4_t max_b = vdupq_n_f32(vmaxvq_f32(max_v));
  float32x4_t sum = vdupq_n_f32(0);
  for_vectors(n, [&](int64_t i, int64_t c) {
    const float32x4_t e = exp4(vsubq_f32(load_n(x + i, c, -INFINITY), max_b));  // padding: exp(-inf) = 0
    sum = vaddq_f32(sum, e);
    store_n(x + i, e, c);
  });
  const float inv = 1.0f / vaddvq_f32(sum);
  for_vectors(n, [&](int64_t i, int64_t c) { store_n(x + i, vmulq_n_f32(load_n(x + i, c), inv), c); });
}

// silu(g) * up = g / (1 + e^-g) * up.
void swiglu(float* gate, const float* up, int64_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  for_vectors(n, [&](int64_t i, int64_t c) {
    const float32x4_t g = load_n(gate + i, c);
    const float32x4_t e = exp4(vnegq_f32(g));
    store_n(gate + i, vmulq_f32(vdivq_f32(g, vaddq_f32(one, e)), load_n(up + i, c)), c);
  });
}

// 0.5 x (1 + tanh y) = x / (1 + e^(-2y)): the same function without tanh's cancellation near -1.
void gelu(float* x, int64_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  const float32x4_t c1 = vdupq_n_f32(-2.0f * 0.797884560802865f);             // -2 sqrt(2/pi)
  const float32x4_t c3 = vdupq_n_f32(-2.0f * 0.797884560802865f * 0.044715f);  // ... * 0.044715
  for_vectors(n, [&](int64_t i, int64_t c) {
    const float32x4_t v = load_n(x + i, c);
    const float32x4_t minus_2y = vmulq_f32(v, vfmaq_f32(c1, vmulq_f32(v, v), c3));
    store_n(x + i, vdivq_f32(v, vaddq_f32(one, exp4(minus_2y))), c);
  });
}

void add(float* y, const float* x, int64_t n) {
  for_vectors(n, [&](int64_t i, int64_t c) { store_n(y + i, vaddq_f32(load_n(y + i, c), load_n(x + i, c)), c); });
}

void exp_array(const float* x, float* y, int64_t n) {
  for_vectors(n, [&](int64_t i, int64_t c) { store_n(y + i, exp4(load_n(x + i, c)), c); });
}

// NeoX pairs (i, i + half): vld2 splits 4 interleaved (cos, sin) pairs into cos and sin vectors.
void rope_neox(float* head, int64_t n_rot, const float* cos_sin) {
  const int64_t half = n_rot / 2;
  for_vectors(half, [&](int64_t i, int64_t c) {
    float pairs[2 * kLanes] = {};
    const float* cs_at = cos_sin + 2 * i;
    if (c < kLanes) {
      for (int64_t k = 0; k < 2 * c; ++k) pairs[k] = cs_at[k];
      cs_at = pairs;
    }
    const float32x4x2_t cs = vld2q_f32(cs_at);
    const float32x4_t a = load_n(head + i, c);
    const float32x4_t b = load_n(head + half + i, c);
    store_n(head + i, vfmsq_f32(vmulq_f32(a, cs.val[0]), b, cs.val[1]), c);
    store_n(head + half + i, vfmaq_f32(vmulq_f32(a, cs.val[1]), b, cs.val[0]), c);
  });
}

// Adjacent pairs (2i, 2i + 1) lie in the same lanes as their (cos, sin): duplicate, swap, signed fma.
void rope_adjacent(float* head, int64_t n_rot, const float* cos_sin) {
  const float32x4_t sign = {-1.0f, 1.0f, -1.0f, 1.0f};
  for_vectors(n_rot, [&](int64_t i, int64_t c) {
    const float32x4_t x = load_n(head + i, c);
    const float32x4_t cs = load_n(cos_sin + i, c);
    const float32x4_t cos_v = vtrn1q_f32(cs, cs);
    const float32x4_t sin_v = vmulq_f32(vtrn2q_f32(cs, cs), sign);
    // even lanes: x0 c - x1 s; odd lanes: x1 c + x0 s.
    store_n(head + i, vfmaq_f32(vmulq_f32(x, cos_v), vrev64q_f32(x), sin_v), c);
  });
}

void rope(float* head, int64_t n_rot, const float* cos_sin, bool neox) {
  if (neox) {
    rope_neox(head, n_rot, cos_sin);
  } else {
    rope_adjacent(head, n_rot, cos_sin);
  }
}

}  // namespace

void fill_neon_ops(KernelTable& t) {
  t.ops.rms_norm = rms_norm;
  t.ops.layer_norm = layer_norm;
  t.ops.softmax = softmax;
  t.ops.swiglu = swiglu;
  t.ops.gelu = gelu;
  t.ops.add = add;
  t.ops.rope = rope;
  t.ops.exp = exp_array;
}

}  // namespace rf::cpu
