// Weights repacked into the 16-row interleaved layout, through the whole driver (decode rows,
// prefill panels, grouped jobs), on awkward shapes: bit-identical to the file layout where both
// run the same register kernel (up to 8 tokens), within f32 rounding beyond; and batch-invariant:
// each token's products are the same bits whatever else is in the batch (what lets the serving
// engine return the same greedy text for a request alone or batched).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/matmul.h"
#include "cpu/repack.h"
#include "quant/quantize.h"

namespace rf::cpu {
namespace {

struct Matrix {
  std::vector<uint8_t> bytes;
  MatrixView view;
};

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

TEST(Interleaved, SameBitsAsTheFileLayout) {
  ThreadPool pool(2);
  for (const DType type : {DType::kQ4_0, DType::kQ8_0}) {
    if (!interleaving_helps(type)) GTEST_SKIP() << "this CPU's kernel level has no interleaved " << dtype_name(type);
    for (const int64_t rows : {1, 5, 17, 40, 130}) {
      for (const int64_t cols : {32, 96, 544}) {
        const Matrix m = random_matrix(type, rows, cols, static_cast<uint32_t>(rows * 7 + cols));
        std::vector<uint8_t> packed(interleaved_bytes(m.view) + 3);  // +3: an unaligned start
        const MatrixView iv = interleave(m.view, packed.data() + 3);
        EXPECT_EQ(iv.layout, MatrixLayout::kInterleaved16);
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
          if (n_tokens <= 8) {
            ASSERT_EQ(want, got);
          } else {
            // Same exact integer block dots; the f32 block terms are summed in another order, so
            // the gap is a few roundings of partial sums: within 1e-5 of mag = Σ|w x| (as in the
            // kernel tests), with the weights dequantized.
            std::vector<float> w_row(static_cast<size_t>(cols));
            for (int64_t r = 0; r < rows; ++r) {
              matrix_row(m.view, r, w_row.data());
              for (int64_t t = 0; t < n_tokens; ++t) {
                double mag = 0.0;
                for (int64_t c = 0; c < cols; ++c) mag += std::abs(static_cast<double>(w_row[static_cast<size_t>(c)]) * x[static_cast<size_t>(t * cols + c)]);
                const auto i = static_cast<size_t>(t * rows + r);
                ASSERT_NEAR(want[i], got[i], 1e-5 * mag);
              }
            }
          }
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
          ASSERT_EQ(want, other);
        }
      }
    }
  }
}

}  // namespace
}  // namespace rf::cpu
