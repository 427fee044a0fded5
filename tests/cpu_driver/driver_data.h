// Shared by the driver tests: random weight matrices and one kernel's product as ground truth.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/matmul.h"

namespace rf::cpu::test {

struct Matrix {
  std::vector<uint8_t> bytes;
  MatrixView view;
};

// rows x cols of `type`, quantized from N(0, 1) values (file layout).
Matrix random_matrix(DType type, int64_t rows, int64_t cols, uint32_t seed);

// y = W x by `kernel` alone on this thread: x converted by its quantizer, then one call per 64
// tokens (the most a kernel takes). w may be in any layout the kernel reads.
std::vector<float> kernel_product(const GemmKernel& kernel, const MatrixView& w, const std::vector<float>& x,
                                  int64_t n_tokens);

}  // namespace rf::cpu::test
