// Load-time conversion of weight matrices into types and layouts the CPU kernels run faster on.
#pragma once

#include <cstdint>
#include <vector>

#include "base/aligned_buffer.h"
#include "model/weights.h"

namespace rf {

// Rewrites every F16 matrix as BF16 in new buffers appended to `storage` and points the views at
// them; a matrix shared by two views (tied embeddings) is converted once. f16 -> bf16 keeps the
// exponent range but drops 3 mantissa bits (relative error <= 2^-9 per weight); it pays on CPUs
// with VDPBF16PS. The source pages are released (MADV_DONTNEED) after each matrix, so resident
// memory does not hold both copies; the file's original tensors stay readable through the mapping.
// Returns the bytes converted.
uint64_t convert_f16_to_bf16(ModelWeights& weights, std::vector<AlignedBuffer<uint8_t>>& storage);

// Repacks every matrix the active kernels read faster interleaved (cpu/repack.h: q4_0, q8_0, f16,
// bf16 and the k-quants on AVX-512) into buffers appended to `storage`, releasing the source pages
// as above. Products are bit-identical (k-quants: within f32 rounding); the token embeddings stay
// in the file unless the output matrix shares them (lookups then read the repacked rows). Returns
// bytes repacked.
uint64_t interleave_for_cpu(ModelWeights& weights, std::vector<AlignedBuffer<uint8_t>>& storage);

}  // namespace rf
