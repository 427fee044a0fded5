// Random f32/f16 weight products and their check against a double-precision reference.
#include "cpu_blas/product_check.h"

#include <cmath>
#include <random>
#include <sstream>

#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace rf::cpu::test {

Weights random_weights(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Weights w;
  const uint64_t stride = *row_bytes(type, static_cast<uint64_t>(cols));
  w.bytes.resize(stride * static_cast<uint64_t>(rows));
  w.values.resize(static_cast<size_t>(rows * cols));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = dist(rng);
    uint8_t* dst = w.bytes.data() + static_cast<uint64_t>(r) * stride;
    quantize_row(type, row.data(), dst, cols);
    dequantize_row(type, dst, row.data(), cols);  // exact: what the matrix holds
    for (int64_t c = 0; c < cols; ++c) w.values[static_cast<size_t>(r * cols + c)] = row[static_cast<size_t>(c)];
  }
  w.view = {w.bytes.data(), type, rows, cols, stride};
  return w;
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) {
    do v = dist(rng);
    while (v == 0.0f);
  }
  return x;
}

std::string check_product(const Weights& w, const std::vector<float>& x, int64_t n_tokens,
                          const std::vector<float>& y) {
  const int64_t rows = w.view.rows, cols = w.view.cols;
  if (y.size() != static_cast<size_t>(rows * n_tokens)) return "wrong output size";
  const double gamma = static_cast<double>(cols) * std::ldexp(1.0, -24);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double want = 0, magnitude = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double p = w.values[static_cast<size_t>(r * cols + c)] * x[static_cast<size_t>(t * cols + c)];
        want += p;
        magnitude += std::abs(p);
      }
      const double got = y[static_cast<size_t>(t * rows + r)];
      if (!(std::abs(got - want) <= gamma * magnitude)) {  // NaN fails too
        std::ostringstream out;
        out << "token " << t << " row " << r << ": got " << got << ", want " << want << " (bound "
            << gamma * magnitude << ")";
        return out.str();
      }
    }
  }
  return "";
}

}  // namespace rf::cpu::test
