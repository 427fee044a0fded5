// Per-format quantizers behind quantize_row; nb counts blocks (32 or 256 elements each).
#pragma once

#include <bit>
#include <cstdint>

#include "quant/blocks.h"

namespace rf::quant_detail {

// Round to nearest, ties to even, as ggml's nearest_int: exact for |x| < 2^22. Outside that range
// (and for NaN) the result is meaningless but defined; callers clamp it.
inline int nearest_int(float x) {
  const float shifted = x + 12582912.f;  // 1.5 * 2^23: the integer lands in the low mantissa bits
  return (std::bit_cast<int32_t>(shifted) & 0x007fffff) - 0x00400000;
}

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nb);
void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t nb);
void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t nb);
void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t nb);
void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nb);

void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t nb);
void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t nb);
void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t nb);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t nb);

}  // namespace rf::quant_detail
