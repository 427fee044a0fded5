// Roofline loops for AVX2: FMA on 8-float vectors, and u8 x s8 products via maddubs/madd.
#include <immintrin.h>

#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kChains = 10;  // FMA latency 4-5 cycles x 2 ports: enough independent chains to saturate

float fp32_fma(int64_t iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(0.999f);
  const __m256 b = _mm256_set1_ps(1e-3f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m256& x : acc) x = _mm256_fmadd_ps(x, a, b);
  }
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  return _mm256_cvtss_f32(sum);
}

float int8_dot(int64_t iterations) {
  __m256i acc[kChains];
  for (__m256i& x : acc) x = _mm256_setzero_si256();
  const __m256i b = _mm256_set1_epi8(5);
  const __m256i ones = _mm256_set1_epi16(1);
  // The unsigned operand is the accumulator itself, so the products cannot be hoisted out of the loop.
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m256i& x : acc) x = _mm256_add_epi32(x, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b), ones));
  }
  __m256i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_epi32(sum, acc[c]);
  return static_cast<float>(_mm256_extract_epi32(sum, 0));
}

float stream_read(const uint8_t* data, int64_t bytes) {
  __m256i acc[4];
  for (__m256i& x : acc) x = _mm256_setzero_si256();
  for (int64_t i = 0; i < bytes; i += 128) {
    for (int j = 0; j < 4; ++j) {
      acc[j] = _mm256_xor_si256(acc[j], _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 32 * j)));
    }
  }
  const __m256i x = _mm256_xor_si256(_mm256_xor_si256(acc[0], acc[1]), _mm256_xor_si256(acc[2], acc[3]));
  return static_cast<float>(_mm256_extract_epi32(x, 0));
}

}  // namespace

void fill_avx2_peak(KernelTable& t) {
  // Per chain and iteration: 8 lanes x 2 flops; 32 byte products x 2 ops.
  t.peak = {fp32_fma, int8_dot, nullptr, stream_read, kChains * 16.0, kChains * 64.0, 0.0};
}

}  // namespace rf::cpu
