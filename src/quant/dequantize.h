// Scalar reference dequantizers: the executable spec of every block format we read.
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace rf {

// Decodes n elements of `type` from src (row_bytes(type, n) bytes) into dst[n] (f32).
// Supported: exactly the types with dtype_info(type).can_dequantize. n must be a whole number of
// blocks; both are invariants (RF_CHECK), since the caller validated the tensor beforehand.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

}  // namespace rf
