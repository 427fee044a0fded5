// ROCMFORGE_BLAS=off: no library is loaded and prefill runs on our kernels only.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "base/aligned_buffer.h"
#include "cpu/blas.h"
#include "cpu_blas/product_check.h"

namespace rf::cpu {
namespace {

// Static initialization runs before main, so before anything asks for the back ends.
const bool kBlasOff = setenv("ROCMFORGE_BLAS", "off", 1) == 0;

TEST(BlasOff, PrefillNeverUsesBlas) {
  ASSERT_TRUE(kBlasOff);
  EXPECT_TRUE(blas_backends().empty());
  EXPECT_FALSE(blas_applies(MatrixView{nullptr, DType::kF32, 64, 64, 256}, 512));
  ThreadPool pool(2);
  for (const DType type : {DType::kF32, DType::kF16}) {
    const test::Weights w = test::random_weights(type, 67, 96, 1);
    const int64_t n_tokens = 100;
    for (int call = 0; call < 3; ++call) {
      const std::vector<float> x = test::random_floats(n_tokens * 96, static_cast<uint32_t>(call));
      AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, 96));
      std::vector<float> y(static_cast<size_t>(67 * n_tokens), std::nanf(""));
      matmul(pool, w.view, x.data(), n_tokens, y.data(), scratch.span());
      EXPECT_EQ(test::check_product(w, x, n_tokens, y), "");
    }
    const BlasChoice c = blas_choice(type, 67, 96, n_tokens);
    EXPECT_EQ(c.measured, 0);
    EXPECT_EQ(c.chosen, "");
  }
}

}  // namespace
}  // namespace rf::cpu
