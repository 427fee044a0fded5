// Element-wise operators in portable C++ (the reference level): std::exp, double-precision sums.
#include <cmath>
#include <cstdint>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const auto scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void layer_norm(const float* x, const float* weight, const float* bias, float* out, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const double inv = 1.0 / std::sqrt(var / static_cast<double>(n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>((x[i] - mean) * inv) * weight[i] + bias[i];
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

// 0.5 x (1 + tanh y) written as x / (1 + e^(-2y)), y = sqrt(2/pi) (x + 0.044715 x^3).
void gelu(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.797884560802865f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float y = kSqrt2OverPi * v * (1.0f + 0.044715f * v * v);
    x[i] = v / (1.0f + std::exp(-2.0f * y));
  }
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void exp_array(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
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

}  // namespace

void fill_scalar_ops(KernelTable& t) {
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
