// The per-shape chooser inside cpu::matmul: each candidate timed once on real calls, then one kept.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/blas.h"
#include "cpu_blas/product_check.h"

namespace rf::cpu {
namespace {

int n_candidates() { return 1 + static_cast<int>(blas_backends().size()); }

bool is_candidate_name(std::string_view name) {
  if (name == "ours") return true;
  for (const BlasBackend& b : blas_backends()) {
    if (b.name == name) return true;
  }
  return false;
}

// One cpu::matmul call, checked against double.
void run_and_check(ThreadPool& pool, const test::Weights& w, int64_t n_tokens, uint32_t seed) {
  const std::vector<float> x = test::random_floats(n_tokens * w.view.cols, seed);
  AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, w.view.cols));
  std::vector<float> y(static_cast<size_t>(w.view.rows * n_tokens), std::nanf(""));
  matmul(pool, w.view, x.data(), n_tokens, y.data(), scratch.span());
  EXPECT_EQ(test::check_product(w, x, n_tokens, y), "") << "tokens " << n_tokens;
}

TEST(BlasChooser, MeasuresEachCandidateOnceThenKeepsOne) {
  if (blas_backends().empty()) GTEST_SKIP() << "no BLAS library found: the chooser is never asked";
  ThreadPool pool(2);
  const int n = n_candidates();
  for (const DType type : {DType::kF32, DType::kF16}) {
    SCOPED_TRACE(dtype_name(type));
    const test::Weights w = test::random_weights(type, 67, 96, 1);
    for (int i = 1; i <= n; ++i) {
      run_and_check(pool, w, 40, static_cast<uint32_t>(i));
      const BlasChoice c = blas_choice(type, 67, 96, 40);
      EXPECT_EQ(c.measured, i);
      if (i < n) {
        EXPECT_EQ(c.chosen, "") << "decided after " << i << " of " << n << " candidates";
      }
    }
    const std::string_view chosen = blas_choice(type, 67, 96, 40).chosen;
    EXPECT_TRUE(is_candidate_name(chosen)) << chosen;
    // 32..63 tokens share the key; the choice stays and nothing more is measured.
    for (const int64_t n_tokens : {int64_t{40}, int64_t{33}, int64_t{63}}) {
      run_and_check(pool, w, n_tokens, 50);
      const BlasChoice c = blas_choice(type, 67, 96, n_tokens);
      EXPECT_EQ(c.chosen, chosen);
      EXPECT_EQ(c.measured, n);
    }
    EXPECT_EQ(blas_choice(type, 67, 96, 64).measured, 0);  // the next width is a key not yet seen
  }
}

TEST(BlasChooser, DecodeNeverAsks) {
  ThreadPool pool(2);
  const test::Weights w = test::random_weights(DType::kF32, 75, 64, 2);
  for (const int64_t n_tokens : {int64_t{1}, int64_t{8}, int64_t{31}}) {
    run_and_check(pool, w, n_tokens, 3);
    const BlasChoice c = blas_choice(DType::kF32, 75, 64, n_tokens);
    EXPECT_EQ(c.measured, 0);
    EXPECT_EQ(c.chosen, "");
  }
  const auto view = [](DType type, MatrixLayout layout) { return MatrixView{nullptr, type, 64, 64, 0, layout}; };
  EXPECT_FALSE(blas_applies(view(DType::kF32, MatrixLayout::kRows), kMinBlasTokens - 1));
  EXPECT_FALSE(blas_applies(view(DType::kQ8_0, MatrixLayout::kRows), 512));  // quantized weights stay on our kernels
  EXPECT_FALSE(blas_applies(view(DType::kF16, MatrixLayout::kInterleaved16), 512));  // repacked: ours
}

// Q/K/V-style grouped jobs (f32 and f16 of one width) go through the chooser job by job.
TEST(BlasChooser, GroupedJobsMatchDoubleReference) {
  ThreadPool pool(2);
  const int64_t cols = 96, n_tokens = 36;
  const test::Weights a = test::random_weights(DType::kF32, 45, cols, 5);
  const test::Weights b = test::random_weights(DType::kF16, 70, cols, 6);
  for (int i = 0; i <= n_candidates(); ++i) {
    const std::vector<float> x = test::random_floats(n_tokens * cols, static_cast<uint32_t>(10 + i));
    std::vector<float> ya(static_cast<size_t>(45 * n_tokens), std::nanf(""));
    std::vector<float> yb(static_cast<size_t>(70 * n_tokens), std::nanf(""));
    AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
    const MatmulJob jobs[] = {{&a.view, ya.data()}, {&b.view, yb.data()}};
    matmul_many(pool, jobs, x.data(), n_tokens, scratch.span());
    EXPECT_EQ(test::check_product(a, x, n_tokens, ya), "") << "call " << i;
    EXPECT_EQ(test::check_product(b, x, n_tokens, yb), "") << "call " << i;
  }
  if (!blas_backends().empty()) {
    EXPECT_TRUE(is_candidate_name(blas_choice(DType::kF32, 45, cols, n_tokens).chosen));
    EXPECT_TRUE(is_candidate_name(blas_choice(DType::kF16, 70, cols, n_tokens).chosen));
  }
}

// Two sessions' threads asking about one key at once: every call is right and the key settles.
TEST(BlasChooser, ConcurrentCallersShareOneKey) {
  const test::Weights w = test::random_weights(DType::kF16, 33, 64, 7);
  const auto caller = [&](uint32_t seed) {
    ThreadPool pool(1);
    for (int i = 0; i < 2 * n_candidates(); ++i) run_and_check(pool, w, 48, seed + static_cast<uint32_t>(i));
  };
  std::thread t1(caller, 100), t2(caller, 200);
  t1.join();
  t2.join();
  if (!blas_backends().empty()) {
    const BlasChoice c = blas_choice(DType::kF16, 33, 64, 48);
    EXPECT_EQ(c.measured, n_candidates());
    EXPECT_TRUE(is_candidate_name(c.chosen)) << c.chosen;
  }
}

}  // namespace
}  // namespace rf::cpu
