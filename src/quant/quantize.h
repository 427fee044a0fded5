// Scalar reference quantizers (f32 -> block formats), following ggml's reference algorithms.
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace rf {

// True for the types quantize_row can write: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0,
// q4_K, q5_K, q6_K, q8_K.
bool can_quantize(DType type);

// Encodes src[n] (f32) into dst (row_bytes(type, n) bytes). n must be a whole number of blocks and
// the type one can_quantize accepts (RF_CHECK). Inputs are expected finite and within the range
// the format's f16 scales can express (|x| well below 65504 * levels); all-zero, constant and
// tiny blocks encode without NaN.
void quantize_row(DType type, const float* src, void* dst, int64_t n);

}  // namespace rf
