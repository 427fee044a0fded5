// Random f32/f16 weight products and their check against a double-precision reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu/matmul.h"
#include "quant/types.h"

namespace rf::cpu::test {

// A (rows, cols) matrix of `type` from values ~ N(0, 1), and the values it holds, widened exactly.
struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<double> values;  // (rows, cols)
  MatrixView view;
};
Weights random_weights(DType type, int64_t rows, int64_t cols, uint32_t seed);

// n floats ~ N(0, 1) (none zero).
std::vector<float> random_floats(int64_t n, uint32_t seed);

// Checks y (n_tokens, rows) against W x in double. The bound is f32 summation's worst case for any
// order, FMA or not (Higham's gamma_k): |error| <= k * 2^-24 * sum_i |w_i x_i| per output, with
// k = cols. Layout mistakes (a transposed or shifted operand, a missed panel) miss it by orders
// of magnitude. Returns "" or a description of the first output outside it.
std::string check_product(const Weights& w, const std::vector<float>& x, int64_t n_tokens,
                          const std::vector<float>& y);

}  // namespace rf::cpu::test
