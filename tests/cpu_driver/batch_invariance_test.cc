// Batch invariance: a token's products have the same bits whether it is multiplied alone or with
// other tokens (any count, any position in the batch). The serving engine relies on it: a request
// must return the same greedy text alone or batched with others. Covered: the float kernels (below
// the BLAS threshold, where a library may take over) and the legacy quants. k-quants are covered
// once repacked (interleaved_test.cc); their file-layout tiles are not invariant yet.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/blas.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "quant/quantize.h"

namespace rf::cpu {
namespace {

TEST(BatchInvariance, ATokensProductsDoNotDependOnItsBatch) {
  ThreadPool pool(2);
  for (const DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                           DType::kQ5_1, DType::kQ8_0}) {
    const int64_t rows = 37, cols = 544;
    std::mt19937 rng(static_cast<uint32_t>(type) + 5);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    const uint64_t stride = *row_bytes(type, static_cast<uint64_t>(cols));
    std::vector<uint8_t> bytes(stride * static_cast<uint64_t>(rows));
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = dist(rng);
      quantize_row(type, row.data(), bytes.data() + static_cast<uint64_t>(r) * stride, cols);
    }
    const MatrixView w{bytes.data(), type, rows, cols, stride};
    const bool float_weights = type == DType::kF32 || type == DType::kF16;
    for (const int64_t n : {2, 3, 8, 9, 16, 17, 31, 64, 65, 130}) {
      if (float_weights && n >= kMinBlasTokens) continue;  // a BLAS library may run those
      SCOPED_TRACE(testing::Message() << dtype_name(type) << " tokens " << n);
      std::vector<float> x(static_cast<size_t>(n * cols));
      for (float& v : x) v = dist(rng);
      AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n, cols));
      std::vector<float> batch(static_cast<size_t>(n * rows)), alone(static_cast<size_t>(rows));
      matmul(pool, w, x.data(), n, batch.data(), scratch.span());
      for (int64_t t = 0; t < n; ++t) {
        matmul(pool, w, x.data() + t * cols, 1, alone.data(), scratch.span());
        ASSERT_TRUE(std::equal(alone.begin(), alone.end(), batch.begin() + t * rows)) << "token " << t;
      }
    }
  }
}

}  // namespace
}  // namespace rf::cpu
