// The matmul driver (row splits, prefill panels, grouped jobs) against single kernel calls.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "driver_data.h"

namespace rf::cpu {
namespace {

using test::Matrix;
using test::random_matrix;

// y = W x with one kernel call over the whole matrix on this thread: the driver's ground truth.
std::vector<float> one_call(const MatrixView& w, const std::vector<float>& x, int64_t n_tokens) {
  return test::kernel_product(kernels().for_type(w.type), w, x, n_tokens);
}

// Tiling changes only f32 summation order: agree within 1e-5 of the output's magnitude.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 0;
  for (const float v : want) scale = std::max(scale, std::abs(static_cast<double>(v)));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-5 * scale + 1e-6) << what << " at " << i;
  }
}

std::vector<float> random_activations(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(MatmulDriver, MatchesOneKernelCallForEverySplit) {
  const DType types[] = {DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};
  const int64_t cols = 512;
  for (const DType type : types) {
    for (const int64_t rows : {int64_t{37}, int64_t{300}, int64_t{1000}}) {
      const Matrix m = random_matrix(type, rows, cols, static_cast<uint32_t>(rows));
      for (const int64_t n_tokens : {int64_t{1}, int64_t{5}, int64_t{64}, int64_t{65}, int64_t{200}}) {
        const std::vector<float> x = random_activations(n_tokens * cols, 7);
        const std::vector<float> want = one_call(m.view, x, n_tokens);
        for (const int threads : {1, 2, 3}) {
          SCOPED_TRACE(testing::Message() << dtype_name(type) << " rows " << rows << " tokens " << n_tokens
                                          << " threads " << threads);
          ThreadPool pool(threads);
          AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
          std::vector<float> y(static_cast<size_t>(n_tokens * rows), std::nanf(""));
          matmul(pool, m.view, x.data(), n_tokens, y.data(), scratch.span());
          expect_close(y, want, "matmul");
        }
      }
    }
  }
}

// Grouped jobs give what separate calls give, also when types (formats) or widths differ.
TEST(MatmulDriver, GroupedJobsMatchSeparateCalls) {
  const int64_t cols = 256;
  const Matrix a = random_matrix(DType::kQ4_K, 300, cols, 1);
  const Matrix b = random_matrix(DType::kQ6_K, 45, cols, 2);  // same activation format as q4_K
  const Matrix c = random_matrix(DType::kQ8_0, 77, cols, 3);  // a different format: runs on its own
  for (const int64_t n_tokens : {int64_t{1}, int64_t{70}}) {
    const std::vector<float> x = random_activations(n_tokens * cols, 9);
    std::vector<float> ya(static_cast<size_t>(n_tokens * 300));
    std::vector<float> yb(static_cast<size_t>(n_tokens * 45));
    std::vector<float> yc(static_cast<size_t>(n_tokens * 77));
    ThreadPool pool(2);
    AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
    const MatmulJob jobs[] = {{&a.view, ya.data()}, {&b.view, yb.data()}, {&c.view, yc.data()}};
    matmul_many(pool, jobs, x.data(), n_tokens, scratch.span());
    expect_close(ya, one_call(a.view, x, n_tokens), "q4_K job");
    expect_close(yb, one_call(b.view, x, n_tokens), "q6_K job");
    expect_close(yc, one_call(c.view, x, n_tokens), "q8_0 job");
  }
}

// Types no kernel family implements (q8_K weights) run on the dequantize-then-dot floor.
TEST(MatmulDriver, DequantizeFloorMatchesDoubleReference) {
  const int64_t rows = 21;
  const int64_t cols = 768;  // three 256-element chunks
  const Matrix m = random_matrix(DType::kQ8_K, rows, cols, 5);
  ASSERT_EQ(kernels().for_type(DType::kQ8_K).act, ActFormat::kF32);
  for (const int64_t n_tokens : {int64_t{1}, int64_t{9}}) {
    const std::vector<float> x = random_activations(n_tokens * cols, 11);
    ThreadPool pool(2);
    AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
    std::vector<float> y(static_cast<size_t>(n_tokens * rows));
    matmul(pool, m.view, x.data(), n_tokens, y.data(), scratch.span());
    std::vector<float> w(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      matrix_row(m.view, r, w.data());
      for (int64_t t = 0; t < n_tokens; ++t) {
        double want = 0.0;
        double magnitude = 0.0;
        for (int64_t c = 0; c < cols; ++c) {
          want += static_cast<double>(w[c]) * x[t * cols + c];
          magnitude += std::abs(static_cast<double>(w[c]) * x[t * cols + c]);
        }
        EXPECT_NEAR(y[t * rows + r], want, 1e-5 * magnitude) << "row " << r << " token " << t;
      }
    }
  }
}

}  // namespace
}  // namespace rf::cpu
