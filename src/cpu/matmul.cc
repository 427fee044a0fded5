// Portable matmul: per-row dequantization into thread scratch, then f32 dot products per token.
#include "cpu/matmul.h"

#include "base/check.h"
#include "cpu/ops.h"
#include "quant/dequantize.h"

namespace rf::cpu {

void matrix_row(const MatrixView& w, int64_t r, float* out) {
  RF_CHECK(r >= 0 && r < w.rows);
  dequantize_row(w.type, w.data + static_cast<uint64_t>(r) * w.row_bytes, out, w.cols);
}

void matmul(ThreadPool& pool, const MatrixView& w, const float* x, int64_t n_tokens, float* y,
            std::span<float> scratch) {
  const int64_t cols = w.cols;
  const int64_t rows = w.rows;
  RF_CHECK(scratch.size() >= static_cast<size_t>(pool.size() * cols));
  const auto body = [&](int64_t begin, int64_t end, int thread) {
    float* row = scratch.data() + static_cast<int64_t>(thread) * cols;
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* src = w.data + static_cast<uint64_t>(r) * w.row_bytes;
      const float* wr = row;
      if (w.type == DType::kF32) {
        wr = reinterpret_cast<const float*>(src);
      } else {
        dequantize_row(w.type, src, row, cols);
      }
      for (int64_t t = 0; t < n_tokens; ++t) y[t * rows + r] = dot(wr, x + t * cols, cols);
    }
  };
  // Waking workers costs microseconds; products smaller than this finish sooner on one thread.
  constexpr int64_t kMinParallelWork = 1 << 15;
  if (rows * cols * n_tokens < kMinParallelWork) {
    body(0, rows, 0);
  } else {
    pool.parallel_for(rows, body);
  }
}

}  // namespace rf::cpu
