// Roofline loops for AVX-512: FMA on 16-float vectors, VPDPBUSD and (when present) VDPBF16PS.
#include <immintrin.h>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kChains = 12;  // covers latency 4 x 2 ports with margin

float fp32_fma(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512 a = _mm512_set1_ps(0.999f);
  const __m512 b = _mm512_set1_ps(1e-3f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m512& x : acc) x = _mm512_fmadd_ps(x, a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  return _mm512_reduce_add_ps(sum);
}

float int8_dot(int64_t iterations) {
  __m512i acc[kChains];
  for (__m512i& x : acc) x = _mm512_setzero_si512();
  const __m512i a = _mm512_set1_epi8(3);
  const __m512i b = _mm512_set1_epi8(5);
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m512i& x : acc) x = _mm512_dpbusd_epi32(x, a, b);
  }
  __m512i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_epi32(sum, acc[c]);
  return static_cast<float>(_mm512_reduce_add_epi32(sum));
}

__attribute__((target("avx512bf16"))) float bf16_dot(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m512& x : acc) x = _mm512_dpbf16_ps(x, a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  return _mm512_reduce_add_ps(sum);
}

float stream_read(const uint8_t* data, int64_t bytes) {
  __m512i acc[4];
  for (__m512i& x : acc) x = _mm512_setzero_si512();
  for (int64_t i = 0; i < bytes; i += 256) {
    for (int j = 0; j < 4; ++j) {
      acc[j] = _mm512_xor_si512(acc[j], _mm512_load_si512(data + i + 64 * j));
    }
  }
  const __m512i x = _mm512_xor_si512(_mm512_xor_si512(acc[0], acc[1]), _mm512_xor_si512(acc[2], acc[3]));
  return static_cast<float>(_mm512_reduce_add_epi32(x));
}

}  // namespace

void fill_avx512_peak(KernelTable& t) {
  // Per chain and iteration: 16 lanes x 2 flops; 64 byte products x 2 ops; 16 lanes x 2 pairs x 2.
  t.peak = {fp32_fma, int8_dot, nullptr, stream_read, kChains * 32.0, kChains * 128.0, 0.0};
  if (__builtin_cpu_supports("avx512bf16")) {
    t.peak.bf16_dot = bf16_dot;
    t.peak.bf16_ops_per_iteration = kChains * 64.0;
  }
}

}  // namespace rf::cpu
