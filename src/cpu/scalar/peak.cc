// Roofline loops for the scalar level: plain C++ multiply-adds over independent accumulators.
#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int kChains = 8;

float fp32_fma(int64_t iterations) {
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = static_cast<float>(c);
  const float a = 0.999f;
  const float b = 1e-3f;
  for (int64_t i = 0; i < iterations; ++i) {
    for (float& x : acc) x = x * a + b;
  }
  float sum = 0;
  for (const float x : acc) sum += x;
  return sum;
}

float int8_dot(int64_t iterations) {
  int32_t acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = c;
  volatile uint8_t seed = 5;
  const uint8_t b = seed;
  // Each product reads its own accumulator, so the compiler cannot hoist or fold the loop.
  for (int64_t i = 0; i < iterations; ++i) {
    for (int32_t& x : acc) x += static_cast<int8_t>(x) * b + static_cast<int8_t>(x >> 8) * b;
  }
  int64_t sum = 0;
  for (const int32_t x : acc) sum += x;
  return static_cast<float>(sum);
}

float stream_read(const uint8_t* data, int64_t bytes) {
  uint64_t acc[4] = {};
  const auto* p = reinterpret_cast<const uint64_t*>(data);
  for (int64_t i = 0; i < bytes / 8; i += 4) {
    for (int j = 0; j < 4; ++j) acc[j] ^= p[i + j];
  }
  return static_cast<float>(acc[0] ^ acc[1] ^ acc[2] ^ acc[3]);
}

}  // namespace

void fill_scalar_peak(KernelTable& t) {
  t.peak = {fp32_fma, int8_dot, nullptr, stream_read, kChains * 2.0, kChains * 4.0, 0.0};
}

}  // namespace rf::cpu
