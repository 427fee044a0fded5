// Portable implementations of the element-wise operators; written so compilers vectorise them.
#include "cpu/ops.h"

#include <cmath>

namespace rf::cpu {

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const auto scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void rope_cos_sin(float* cos_sin, int64_t pos, int64_t n_rot, float freq_base, float freq_scale) {
  const double p = static_cast<double>(pos) * freq_scale;
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double theta = p * std::pow(static_cast<double>(freq_base), -2.0 * static_cast<double>(i) /
                                                                          static_cast<double>(n_rot));
    cos_sin[2 * i] = static_cast<float>(std::cos(theta));
    cos_sin[2 * i + 1] = static_cast<float>(std::sin(theta));
  }
}

void rope(float* head, int64_t n_rot, const float* cos_sin, bool neox) {
  const int64_t half = n_rot / 2;
  const int64_t stride = neox ? 1 : 2;      // distance between consecutive pairs
  const int64_t partner = neox ? half : 1;  // distance from a pair's first to its second element
  for (int64_t i = 0; i < half; ++i) {
    float* a = head + i * stride;
    float* b = a + partner;
    const float c = cos_sin[2 * i];
    const float s = cos_sin[2 * i + 1];
    const float x0 = *a;
    const float x1 = *b;
    *a = x0 * c - x1 * s;
    *b = x0 * s + x1 * c;
  }
}

void softmax(float* x, int64_t n) {
  float max_v = x[0];
  for (int64_t i = 1; i < n; ++i) max_v = x[i] > max_v ? x[i] : max_v;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_v);
    sum += x[i];
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

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

void axpy(float* y, float a, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace rf::cpu
