// Element-wise operators for AVX-512: 16 floats per vector, masked tails, polynomial exp.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "cpu/avx512/vec_math.h"
#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int64_t kLanes = 16;

// Calls f(i, mask) over [0, n) in vectors of 16; the last may be partial (mask of its lanes).
template <class F>
void for_vectors(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) f(i, static_cast<__mmask16>(0xffff));
  if (i < n) f(i, first_lanes(n - i));
}

__m512 load(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
void store(float* p, __m512 v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }

// Σ x^2 in four vector accumulators (independent FMA chains).
float sum_squares(const float* x, int64_t n) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int j = 0; j < 4; ++j) {
      const __m512 v = _mm512_loadu_ps(x + i + j * kLanes);
      acc[j] = _mm512_fmadd_ps(v, v, acc[j]);
    }
  }
  for_vectors(n - i, [&](int64_t k, __mmask16 m) {
    const __m512 v = load(x + i + k, m);
    acc[0] = _mm512_fmadd_ps(v, v, acc[0]);
  });
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  const double mean_sq = static_cast<double>(sum_squares(x, n)) / static_cast<double>(n);
  const __m512 scale = _mm512_set1_ps(static_cast<float>(1.0 / std::sqrt(mean_sq + eps)));
  for_vectors(n, [&](int64_t i, __mmask16 m) {
    store(out + i, _mm512_mul_ps(_mm512_mul_ps(load(x + i, m), scale), load(weight + i, m)), m);
  });
}

void layer_norm(const float* x, const float* weight, const float* bias, float* out, int64_t n, float eps) {
  __m512 sum = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 m) { sum = _mm512_add_ps(sum, load(x + i, m)); });
  const float mean = _mm512_reduce_add_ps(sum) / static_cast<float>(n);
  const __m512 mean_v = _mm512_set1_ps(mean);
  __m512 var = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 m) {
    const __m512 d = _mm512_maskz_sub_ps(m, load(x + i, m), mean_v);
    var = _mm512_fmadd_ps(d, d, var);
  });
  const double variance = static_cast<double>(_mm512_reduce_add_ps(var)) / static_cast<double>(n);
  const __m512 inv = _mm512_set1_ps(static_cast<float>(1.0 / std::sqrt(variance + eps)));
  for_vectors(n, [&](int64_t i, __mmask16 m) {
    const __m512 d = _mm512_mul_ps(_mm512_sub_ps(load(x + i, m), mean_v), inv);
    store(out + i, _mm512_fmadd_ps(d, load(weight + i, m), load(bias + i, m)), m);
  });
}

void softmax(float* x, int64_t n) {
  __m512 max_v = _mm512_set1_ps(-INFINITY);
  for_vectors(n, [&](int64_t i, __mmask16 m) { max_v = _mm512_mask_max_ps(max_v, m, max_v, load(x + i, m)); });
  const __m512 max_b = _mm512_set1_ps(_mm512_reduce_max_ps(max_v));
  __m512 sum = _mm512_setzero_ps();
  for_vectors(n, [&](int64_t i, __mmask16 m) {
    const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(load(x + i, m), max_b)));
    sum = _mm512_add_ps(sum, e);
    store(x + i, e, m);
  });
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for_vectors(n, [&](int64_t i, __mmask16 m) { store(x + i, _mm512_mul_ps(load(x + i, m), inv), m); });
}

// silu(g) * up = g / (1 + e^-g) * up.
void swiglu(float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for_vectors(n, [&](int64_t i, __mmask16 m) {
    const __m512 g = load(gate + i, m);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
    store(gate + i, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), load(up + i, m)), m);
  });
}

// 0.5 x (1 + tanh y) = x / (1 + e^(-2y)): the same function without tanh's cancellation near -1.
void gelu(float* x, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 c1 = _mm512_set1_ps(-2.0f * 0.797884560802865f);             // -2 sqrt(2/pi)
  const __m512 c3 = _mm512_set1_ps(-2.0f * 0.797884560802865f * 0.044715f);  // ... * 0.044715
  for_vectors(n, [&](int64_t i, __mmask16 m) {
    const __m512 v = load(x + i, m);
    const __m512 minus_2y = _mm512_mul_ps(v, _mm512_fmadd_ps(_mm512_mul_ps(v, v), c3, c1));
    store(x + i, _mm512_div_ps(v, _mm512_add_ps(one, exp16(minus_2y))), m);
  });
}

void add(float* y, const float* x, int64_t n) {
  for_vectors(n, [&](int64_t i, __mmask16 m) { store(y + i, _mm512_add_ps(load(y + i, m), load(x + i, m)), m); });
}

void exp_array(const float* x, float* y, int64_t n) {
  for_vectors(n, [&](int64_t i, __mmask16 m) { store(y + i, exp16(load(x + i, m)), m); });
}

// NeoX pairs (i, i + half): cos and sin of 16 consecutive pairs are split out of 32 interleaved floats.
void rope_neox(float* head, int64_t n_rot, const float* cos_sin) {
  const int64_t half = n_rot / 2;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for_vectors(half, [&](int64_t i, __mmask16 m) {
    const int64_t left = 2 * (half - i);  // cos/sin floats left from 2i on
    const __m512 cs0 = load(cos_sin + 2 * i, left >= kLanes ? static_cast<__mmask16>(0xffff) : first_lanes(left));
    const __m512 cs1 = left >= 2 * kLanes ? _mm512_loadu_ps(cos_sin + 2 * i + kLanes)
                       : left > kLanes    ? load(cos_sin + 2 * i + kLanes, first_lanes(left - kLanes))
                                          : _mm512_setzero_ps();
    const __m512 c = _mm512_permutex2var_ps(cs0, even, cs1);
    const __m512 s = _mm512_permutex2var_ps(cs0, odd, cs1);
    const __m512 a = load(head + i, m);
    const __m512 b = load(head + half + i, m);
    store(head + i, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)), m);
    store(head + half + i, _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c)), m);
  });
}

// Adjacent pairs (2i, 2i + 1) lie in the same lanes as their (cos, sin): duplicate, swap, fmaddsub.
void rope_adjacent(float* head, int64_t n_rot, const float* cos_sin) {
  for_vectors(n_rot, [&](int64_t i, __mmask16 m) {
    const __m512 x = load(head + i, m);
    const __m512 cs = load(cos_sin + i, m);
    const __m512 swapped = _mm512_permute_ps(x, 0xb1);
    // even lanes: x0 c - x1 s; odd lanes: x1 c + x0 s.
    store(head + i, _mm512_fmaddsub_ps(x, _mm512_moveldup_ps(cs), _mm512_mul_ps(swapped, _mm512_movehdup_ps(cs))), m);
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

void fill_avx512_ops(KernelTable& t) {
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
