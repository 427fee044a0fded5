// Element-wise operators for AVX2 + FMA: 8 floats per vector, maskload/maskstore tails, polynomial exp.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "cpu/avx2/vec_math.h"
#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int64_t kLanes = 8;

// Calls f(i, mask) over [0, n) in vectors of 8; the last may be partial (mask of its lanes).
template <class F>
void for_vectors(int64_t n, F&& f) {
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) f(i, all);
  if (i < n) f(i, lanes_below(n - i));
}

__m256 load(const float* p, __m256i m) { return _mm256_maskload_ps(p, m); }
void store(float* p, __m256 v, __m256i m) { _mm256_maskstore_ps(p, m, v); }
__m256 keep(__m256 v, __m256i m) { return _mm256_and_ps(v, _mm256_castsi256_ps(m)); }

float sum_squares(const float* x, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int j = 0; j < 4; ++j) {
      const __m256 v = _mm256_loadu_ps(x + i + j * kLanes);
      acc[j] = _mm256_fmadd_ps(v, v, acc[j]);
    }
  }
  for_vectors(n - i, [&](int64_t k, __m256i m) {
    const __m256 v = load(x + i + k, m);
    acc[0] = _mm256_fmadd_ps(v, v, acc[0]);
  });
  return hsum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  const double mean_sq = static_cast<double>(sum_squares(x, n)) / static_cast<double>(n);
  const __m256 scale = _mm256_set1_ps(static_cast<float>(1.0 / std::sqrt(mean_sq + eps)));
  for_vectors(n, [&](int64_t i, __m256i m) {
    store(out + i, _mm256_mul_ps(_mm256_mul_ps(load(x + i, m), scale), load(weight + i, m)), m);
  });
}

void layer_norm(const float* x, const float* weight, const float* bias, float* out, int64_t n, float eps) {
  __m256 sum = _mm256_setzero_ps();
  for_vectors(n, [&](int64_t i, __m256i m) { sum = _mm256_add_ps(sum, load(x + i, m)); });
  const __m256 mean = _mm256_set1_ps(hsum8(sum) / static_cast<float>(n));
  __m256 var = _mm256_setzero_ps();
  for_vectors(n, [&](int64_t i, __m256i m) {
    const __m256 d = keep(_mm256_sub_ps(load(x + i, m), mean), m);
    var = _mm256_fmadd_ps(d, d, var);
  });
  const double variance = static_cast<double>(hsum8(var)) / static_cast<double>(n);
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / std::sqrt(variance + eps)));
  for_vectors(n, [&](int64_t i, __m256i m) {
    const __m256 d = _mm256_mul_ps(_mm256_sub_ps(load(x + i, m), mean), inv);
    store(out + i, _mm256_fmadd_ps(d, load(weight + i, m), load(bias + i, m)), m);
  });
}

void softmax(float* x, int64_t n) {
  const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
  __m256 max_v = minus_inf;
  for_vectors(n, [&](int64_t i, __m256i m) {
    max_v = _mm256_max_ps(max_v, _mm256_blendv_ps(minus_inf, load(x + i, m), _mm256_castsi256_ps(m)));
  });
  const __m256 max_b = _mm256_set1_ps(hmax8(max_v));
  __m256 sum = _mm256_setzero_ps();
  for_vectors(n, [&](int64_t i, __m256i m) {
    const __m256 e = keep(exp8(_mm256_sub_ps(load(x + i, m), max_b)), m);
    sum = _mm256_add_ps(sum, e);
    store(x + i, e, m);
  });
  const __m256 inv = _mm256_set1_ps(1.0f / hsum8(sum));
  for_vectors(n, [&](int64_t i, __m256i m) { store(x + i, _mm256_mul_ps(load(x + i, m), inv), m); });
}

// silu(g) * up = g / (1 + e^-g) * up.
void swiglu(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for_vectors(n, [&](int64_t i, __m256i m) {
    const __m256 g = load(gate + i, m);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    store(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), load(up + i, m)), m);
  });
}

// 0.5 x (1 + tanh y) = x / (1 + e^(-2y)): the same function without tanh's cancellation near -1.
void gelu(float* x, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 c1 = _mm256_set1_ps(-2.0f * 0.797884560802865f);             // -2 sqrt(2/pi)
  const __m256 c3 = _mm256_set1_ps(-2.0f * 0.797884560802865f * 0.044715f);  // ... * 0.044715
  for_vectors(n, [&](int64_t i, __m256i m) {
    const __m256 v = load(x + i, m);
    const __m256 minus_2y = _mm256_mul_ps(v, _mm256_fmadd_ps(_mm256_mul_ps(v, v), c3, c1));
    store(x + i, _mm256_div_ps(v, _mm256_add_ps(one, exp8(minus_2y))), m);
  });
}

void add(float* y, const float* x, int64_t n) {
  for_vectors(n, [&](int64_t i, __m256i m) { store(y + i, _mm256_add_ps(load(y + i, m), load(x + i, m)), m); });
}

void exp_array(const float* x, float* y, int64_t n) {
  for_vectors(n, [&](int64_t i, __m256i m) { store(y + i, exp8(load(x + i, m)), m); });
}

// NeoX pairs (i, i + half): cos and sin of 8 pairs are split out of 16 interleaved floats.
void rope_neox(float* head, int64_t n_rot, const float* cos_sin) {
  const int64_t half = n_rot / 2;
  const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  for_vectors(half, [&](int64_t i, __m256i m) {
    const int64_t left = 2 * (half - i);  // cos/sin floats left from 2i on
    // Each 8 floats [c s c s ...] become [c c c c s s s s]; their 128-bit halves pair up into c and s.
    const __m256 lo = _mm256_permutevar8x32_ps(load(cos_sin + 2 * i, lanes_below(left)), order);
    const __m256 hi = _mm256_permutevar8x32_ps(load(cos_sin + 2 * i + kLanes, lanes_below(left - kLanes)), order);
    const __m256 c = _mm256_permute2f128_ps(lo, hi, 0x20);
    const __m256 s = _mm256_permute2f128_ps(lo, hi, 0x31);
    const __m256 a = load(head + i, m);
    const __m256 b = load(head + half + i, m);
    store(head + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)), m);
    store(head + half + i, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)), m);
  });
}

// Adjacent pairs (2i, 2i + 1) lie in the same lanes as their (cos, sin): duplicate, swap, fmaddsub.
void rope_adjacent(float* head, int64_t n_rot, const float* cos_sin) {
  for_vectors(n_rot, [&](int64_t i, __m256i m) {
    const __m256 x = load(head + i, m);
    const __m256 cs = load(cos_sin + i, m);
    const __m256 swapped = _mm256_permute_ps(x, 0xb1);
    // even lanes: x0 c - x1 s; odd lanes: x1 c + x0 s.
    store(head + i, _mm256_fmaddsub_ps(x, _mm256_moveldup_ps(cs), _mm256_mul_ps(swapped, _mm256_movehdup_ps(cs))), m);
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

void fill_avx2_ops(KernelTable& t) {
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
