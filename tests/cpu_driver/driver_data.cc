#include "driver_data.h"

#include <algorithm>
#include <random>

#include "quant/quantize.h"

namespace rf::cpu::test {

Matrix random_matrix(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Matrix m;
  const uint64_t stride = *row_bytes(type, static_cast<uint64_t>(cols));
  m.bytes.resize(stride * static_cast<uint64_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = dist(rng);
    quantize_row(type, row.data(), m.bytes.data() + static_cast<uint64_t>(r) * stride, cols);
  }
  m.view = {m.bytes.data(), type, rows, cols, stride};
  return m;
}

std::vector<float> kernel_product(const GemmKernel& kernel, const MatrixView& w, const std::vector<float>& x,
                                  int64_t n_tokens) {
  const uint64_t a_stride = act_row_bytes(kernel.act, w.cols);
  std::vector<uint8_t> act(a_stride * static_cast<uint64_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) kernel.quantize_act(x.data() + t * w.cols, act.data() + t * a_stride, w.cols);
  std::vector<float> y(static_cast<size_t>(n_tokens * w.rows));
  for (int64_t t0 = 0; t0 < n_tokens; t0 += 64) {
    GemmArgs g;
    g.k = w.cols;
    g.w = w.data;
    g.w_stride = w.row_bytes;
    g.n_rows = w.rows;
    g.a = act.data() + static_cast<uint64_t>(t0) * a_stride;
    g.a_stride = a_stride;
    g.n_cols = std::min<int64_t>(64, n_tokens - t0);
    g.out = y.data() + t0 * w.rows;
    g.out_stride = w.rows;
    kernel.gemm(g);
  }
  return y;
}

}  // namespace rf::cpu::test
