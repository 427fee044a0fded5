// Weights (q4_0, q8_0, f16, bf16, q4_K, q5_K, q6_K) repacked into the 16-row interleaved layout,
// through the whole driver (decode rows, prefill panels, grouped jobs), on awkward shapes: the same
// products as the file layout (bit-identical where both run the same register kernel), the same
// row lookups, and batch-invariant: each token's products are the same bits whatever else is in
// the batch (what lets the serving engine return the same greedy text for a request alone or
// batched).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/repack.h"
#include "driver_data.h"

namespace rf::cpu {
namespace {

using test::kernel_product;
using test::Matrix;
using test::random_matrix;

bool is_k_quant(DType type) { return dtype_info(type).block_size == 256; }

// want (file layout) and got (another run of the same product): the same bits up to 8 tokens, where
// both run the same register kernel (not so for k-quants, whose file-layout tiles sum in another
// order); beyond, the f32 block terms of quantized weights are summed in another order, and f16
// products of the file layout may go to a BLAS back end, so the gap is a few roundings of partial
// sums: within 1e-5 of mag = Σ|w x| (as in the kernel tests).
void expect_same_products(const MatrixView& w, const std::vector<float>& x, int64_t n_tokens,
                          const std::vector<float>& want, const std::vector<float>& got) {
  if (n_tokens <= 8 && !is_k_quant(w.type)) {
    ASSERT_EQ(want, got);
    return;
  }
  std::vector<float> w_row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    matrix_row(w, r, w_row.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      double mag = 0.0;
      for (int64_t c = 0; c < w.cols; ++c) mag += std::abs(static_cast<double>(w_row[static_cast<size_t>(c)]) * x[static_cast<size_t>(t * w.cols + c)]);
      const auto i = static_cast<size_t>(t * w.rows + r);
      ASSERT_NEAR(want[i], got[i], 1e-5 * mag);
    }
  }
}

TEST(Interleaved, SameBitsAsTheFileLayout) {
  ThreadPool pool(2);
  int tested = 0;
  for (const DType type : {DType::kQ4_0, DType::kQ8_0, DType::kF16, DType::kBF16, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const int64_t block = dtype_info(type).block_size == 1 ? 32 : dtype_info(type).block_size;
    if (!interleaving_helps(MatrixView{nullptr, type, 16, block, *row_bytes(type, static_cast<uint64_t>(block))})) continue;
    ++tested;
    for (const int64_t rows : {1, 5, 17, 40, 130}) {
      for (const int64_t cols : {block, 3 * block, 17 * block}) {
        const Matrix m = random_matrix(type, rows, cols, static_cast<uint32_t>(rows * 7 + cols));
        std::vector<uint8_t> packed(interleaved_bytes(m.view) + 3);  // +3: an unaligned start
        const MatrixView iv = interleave(m.view, packed.data() + 3);
        EXPECT_EQ(iv.layout, MatrixLayout::kInterleaved16);
        // Lookups of single rows (a tied embedding table) read the same values from either layout.
        std::vector<float> row_want(static_cast<size_t>(cols)), row_got(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
          matrix_row(m.view, r, row_want.data());
          matrix_row(iv, r, row_got.data());
          ASSERT_EQ(row_want, row_got) << dtype_name(type) << " row " << r << " of " << rows;
        }
        for (const int64_t n_tokens : {1, 3, 8, 9, 13, 64, 77, 200}) {
          SCOPED_TRACE(testing::Message() << dtype_name(type) << " rows " << rows << " cols " << cols
                                          << " tokens " << n_tokens);
          std::mt19937 rng(static_cast<uint32_t>(n_tokens));
          std::normal_distribution<float> dist(0.0f, 1.0f);
          std::vector<float> x(static_cast<size_t>(n_tokens * cols));
          for (float& v : x) v = dist(rng);
          AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
          std::vector<float> want(static_cast<size_t>(n_tokens * rows)), got(want.size(), -1.0f);
          matmul(pool, m.view, x.data(), n_tokens, want.data(), scratch.span());
          matmul(pool, iv, x.data(), n_tokens, got.data(), scratch.span());
          expect_same_products(m.view, x, n_tokens, want, got);
          // Token by token alone: the same bits as in the batch.
          std::vector<float> alone(static_cast<size_t>(rows));
          for (int64_t t = 0; t < n_tokens; ++t) {
            matmul(pool, iv, x.data() + t * cols, 1, alone.data(), scratch.span());
            ASSERT_TRUE(std::equal(alone.begin(), alone.end(), got.begin() + t * rows)) << "token " << t;
          }
          // Grouped with a file-layout matrix of the same type (Q/K/V with mixed layouts).
          std::vector<float> got2(want.size(), -1.0f), other(want.size(), -1.0f);
          const MatmulJob jobs[] = {{&iv, got2.data()}, {&m.view, other.data()}};
          matmul_many(pool, jobs, x.data(), n_tokens, scratch.span());
          ASSERT_EQ(got, got2);
          expect_same_products(m.view, x, n_tokens, want, other);
        }
      }
    }
  }
  if (tested == 0) GTEST_SKIP() << "this CPU's kernel level has no interleaved kernels";
}

// Every level's interleaved kernels (not just the active level's, which the driver test above
// covers): the products of its file-layout kernel within f32 rounding, and batch-invariant.
TEST(Interleaved, EveryLevelsKernelsMatchItsFileLayoutKernels) {
  int tested = 0;
  for (const Isa isa : available_isas()) {
    const KernelTable& table = kernels_for(isa);
    for (const DType type : {DType::kQ4_0, DType::kQ8_0, DType::kF16, DType::kBF16, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
      const GemmKernel& packed_kernel = table.gemm_interleaved[static_cast<uint32_t>(type)];
      if (packed_kernel.gemm == nullptr) continue;
      ++tested;
      const int64_t block = dtype_info(type).block_size == 1 ? 32 : dtype_info(type).block_size;
      for (const int64_t rows : {5, 17, 40}) {
        const int64_t cols = 3 * block;
        const Matrix m = random_matrix(type, rows, cols, static_cast<uint32_t>(rows + cols));
        std::vector<uint8_t> packed(interleaved_bytes(m.view));
        const MatrixView iv = interleave(m.view, packed.data());
        for (const int64_t n_tokens : {1, 3, 9, 70}) {
          SCOPED_TRACE(testing::Message() << isa_name(isa) << " " << dtype_name(type) << " rows " << rows
                                          << " tokens " << n_tokens);
          std::mt19937 rng(static_cast<uint32_t>(n_tokens));
          std::normal_distribution<float> dist(0.0f, 1.0f);
          std::vector<float> x(static_cast<size_t>(n_tokens * cols));
          for (float& v : x) v = dist(rng);
          const std::vector<float> want = kernel_product(table.for_type(type), m.view, x, n_tokens);
          const std::vector<float> got = kernel_product(packed_kernel, iv, x, n_tokens);
          std::vector<float> w_row(static_cast<size_t>(cols));
          for (int64_t r = 0; r < rows; ++r) {
            matrix_row(m.view, r, w_row.data());
            for (int64_t t = 0; t < n_tokens; ++t) {
              double mag = 0.0;
              for (int64_t c = 0; c < cols; ++c) mag += std::abs(static_cast<double>(w_row[static_cast<size_t>(c)]) * x[static_cast<size_t>(t * cols + c)]);
              const auto i = static_cast<size_t>(t * rows + r);
              ASSERT_NEAR(want[i], got[i], 1e-5 * mag) << "row " << r << " token " << t;
            }
          }
          for (int64_t t = 0; t < n_tokens; ++t) {
            const std::vector<float> one(x.begin() + t * cols, x.begin() + (t + 1) * cols);
            const std::vector<float> alone = kernel_product(packed_kernel, iv, one, 1);
            ASSERT_TRUE(std::equal(alone.begin(), alone.end(), got.begin() + t * rows)) << "token " << t;
          }
        }
      }
    }
  }
  if (tested == 0) GTEST_SKIP() << "no level of this CPU has interleaved kernels";
}

}  // namespace
}  // namespace rf::cpu
