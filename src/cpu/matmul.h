// Weight-matrix products for the forward pass: y = W x for a batch of activation rows.
#pragma once

#include <cstdint>
#include <span>

#include "quant/types.h"
#include "threading/thread_pool.h"

namespace rf::cpu {

enum class MatrixLayout {
  kRows,          // the file's: row r at data + r * row_bytes
  kInterleaved16, // 16 rows interleaved per block (cpu/repack.h)
};

// A borrowed weight matrix: `rows` rows of `cols` elements of `type` (GGUF shape [cols, rows],
// ne[0] = cols), in the file's layout or repacked at load.
struct MatrixView {
  const uint8_t* data = nullptr;
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  MatrixLayout layout = MatrixLayout::kRows;
};

// Bytes of scratch matmul needs for n_tokens activation rows of up to max_cols elements:
// rows * max_cols * 4 with rows = n_tokens, or max(n_tokens, kBlasPanelRows) from kMinBlasTokens
// tokens on (room for a panel of f16 weight rows widened for a BLAS back end; see blas.h).
uint64_t matmul_scratch_bytes(int64_t n_tokens, int64_t max_cols);

// y[t][r] = sum_c W[r][c] * x[t][c] for t < n_tokens; x rows are `cols` long and y rows `rows`
// long, both densely packed. Activations are first converted (once) into the format the weight
// type's kernel consumes, in `scratch`; then the kernel from the table runs over tiles of
// (weight rows x tokens) spread across the pool. Prefill of F32/F16 weights may instead run on a
// BLAS back end, as the per-shape chooser in blas.h decides.
void matmul(ThreadPool& pool, const MatrixView& w, const float* x, int64_t n_tokens, float* y,
            std::span<uint8_t> scratch);

// Several matrices applied to the same activations (Q/K/V, or gate/up): activations are
// converted once and all rows share one parallel region. Matrices of different column counts or
// activation formats are run one after another. y of each job is (n_tokens, rows of its matrix).
struct MatmulJob {
  const MatrixView* w = nullptr;
  float* y = nullptr;
};
inline constexpr size_t kMaxJobs = 4;
void matmul_many(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int64_t n_tokens,
                 std::span<uint8_t> scratch);

// Copies row r of W (either layout), dequantized, into out[cols] (embedding lookup).
void matrix_row(const MatrixView& w, int64_t r, float* out);

}  // namespace rf::cpu
