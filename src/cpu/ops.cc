// The operator front: each call goes to the kernel table's level; rope tables and dot stay portable.
#include "cpu/ops.h"

#include <cmath>

#include "cpu/kernels.h"

namespace rf::cpu {

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  kernels().ops.rms_norm(x, weight, out, n, eps);
}

void layer_norm(const float* x, const float* weight, const float* bias, float* out, int64_t n, float eps) {
  kernels().ops.layer_norm(x, weight, bias, out, n, eps);
}

void rope(float* head, int64_t n_rot, const float* cos_sin, bool neox) { kernels().ops.rope(head, n_rot, cos_sin, neox); }

void rope_cos_sin(float* cos_sin, int64_t pos, int64_t n_rot, float freq_base, float freq_scale) {
  const double p = static_cast<double>(pos) * freq_scale;
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double theta = p * std::pow(static_cast<double>(freq_base), -2.0 * static_cast<double>(i) /
                                                                          static_cast<double>(n_rot));
    cos_sin[2 * i] = static_cast<float>(std::cos(theta));
    cos_sin[2 * i + 1] = static_cast<float>(std::sin(theta));
  }
}

void softmax(float* x, int64_t n) { kernels().ops.softmax(x, n); }

void swiglu(float* gate, const float* up, int64_t n) { kernels().ops.swiglu(gate, up, n); }

void gelu(float* x, int64_t n) { kernels().ops.gelu(x, n); }

void add(float* y, const float* x, int64_t n) { kernels().ops.add(y, x, n); }

float dot(const float* a, const float* b, int64_t n) {
  // Eight independent partial sums let the compiler keep a vector register busy without -ffast-math.
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

}  // namespace rf::cpu
