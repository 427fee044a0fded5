// Weight repacking at load: the 16-row interleaved layout some kernels read faster.
//
// Rows are taken 16 at a time (the last group padded by repeating its last row), and each kernel
// step reads one contiguous range instead of 16 row streams. Row r0 (a multiple of 16) of the view
// starts at data + r0 * row_bytes.
// - q4_0, q8_0: group g, block b holds, for each dword j of the block's quants (4 for q4_0, 8 for
//   q8_0), the 16 rows' dword j in row order, then the 16 rows' fp16 scales — 16 * block bytes, as
//   in the file, and the kernels need no transposes.
// - f16, bf16 (rows of a multiple of 32 elements): chunk c holds the 16 rows' elements
//   [32c, 32c + 32) in row order, 64 bytes each.
#pragma once

#include <cstdint>

#include "cpu/matmul.h"

namespace rf::cpu {

// Whether the active kernel table reads w faster interleaved (only then is it repacked).
bool interleaving_helps(const MatrixView& w);

// Bytes of w interleaved: rows rounded up to a multiple of 16.
uint64_t interleaved_bytes(const MatrixView& w);

// Writes w (row-major, as in the file) interleaved into dst (interleaved_bytes(w) bytes) and
// returns the view of it.
MatrixView interleave(const MatrixView& w, uint8_t* dst);

// Row r of an interleaved view, dequantized into out[w.cols] (an embedding lookup in a table that
// is also the output matrix): the same values as the row in the file's layout.
void dequantize_interleaved_row(const MatrixView& w, int64_t r, float* out);

}  // namespace rf::cpu
