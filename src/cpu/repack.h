// Weight repacking at load: the 16-row interleaved layout some kernels read faster.
//
// Rows are taken 16 at a time (the last group padded by repeating its last row), and each kernel
// step reads one contiguous range instead of 16 row streams. Row r0 (a multiple of 16) of the view
// starts at data + r0 * row_bytes. Block b of a group holds, field by field, unit u of the field of
// every row side by side (row order), for u = 0, 1, ...: 16 * block bytes, as in the file.
// - q4_0, q8_0: the quants in dwords, then the fp16 scales: dword j of the 16 rows is one vector,
//   already in the kernels' lane order (no transposes).
// - f16, bf16 (rows of a multiple of 32 elements): 32 elements (64 bytes) of each row in turn.
// - q4_K: (d, dmin) dwords, the 12 scale bytes as 3 dwords, the 128 quant bytes as 32 dwords;
//   q5_K the same with its 32 qh bytes as 8 dwords before the quants.
// - q6_K: the fp16 d, the 16 scales as 4 dwords, ql as 32 dwords, qh as 16 dwords.
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
