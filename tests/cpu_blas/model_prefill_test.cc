// A prefill long enough for BLAS (40 tokens) on random f32 and f16 llama models, against double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "cpu/blas.h"
#include "model/reference_forward.h"
#include "model/session.h"
#include "model/tiny_model.h"
#include "threading/thread_pool.h"

namespace rf {
namespace {

TEST(BlasPrefill, ForwardPassMatchesDoubleReference) {
  ThreadPool pool(2);
  std::vector<int32_t> tokens(40);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 37 + 11) % 500 + 3);
  for (const DType type : {DType::kF32, DType::kF16}) {
    SCOPED_TRACE(dtype_name(type));
    test::TinyModelSpec spec;
    spec.matrix_type = type;
    spec.seed = 5;
    const std::string path = test::write_tiny_model(spec, std::string("blas_") + std::string(dtype_name(type)));
    // Repacked (interleaved) matrices stay on our kernels; the file's rows meet the BLAS chooser.
    LoadOptions options;
    options.repack = false;
    auto model = Model::load(path, options);
    std::remove(path.c_str());
    ASSERT_TRUE(model.ok()) << model.error().message;
    const auto expected = test::reference_logits(*model, tokens);
    auto session = Session::create(*model, pool, {64, 64, true});
    ASSERT_TRUE(session.ok());
    // Two layers: each matrix shape is met twice per pass, so three passes time every candidate
    // (ours + at most three libraries) and then run the chosen one.
    for (int pass = 0; pass < 3; ++pass) {
      session->rewind(0);
      ASSERT_TRUE(session->eval(tokens).ok());
      for (size_t t = 0; t < tokens.size(); ++t) {
        const auto got = session->logits(static_cast<int64_t>(t));
        double sq_err = 0, sq_ref = 0, max_err = 0, max_ref = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          const double err = std::abs(got[i] - expected[t][i]);
          sq_err += err * err;
          sq_ref += expected[t][i] * expected[t][i];
          max_err = std::max(max_err, err);
          max_ref = std::max(max_ref, std::abs(expected[t][i]));
        }
        // As tests/model/forward_test.cc for f32 activations: f32 summation only.
        ASSERT_LT(max_err, 1e-4 * std::max(1.0, max_ref)) << "pass " << pass << " position " << t;
        ASSERT_LT(std::sqrt(sq_err), 1e-4 * std::sqrt(sq_ref)) << "pass " << pass << " position " << t;
      }
    }
    if (!cpu::blas_backends().empty()) {
      // ffn_up (n_ff x n_embd) was timed on every candidate inside the forward pass.
      const cpu::BlasChoice c = cpu::blas_choice(type, spec.n_ff, spec.n_embd, 40);
      EXPECT_EQ(c.measured, 1 + static_cast<int>(cpu::blas_backends().size()));
      EXPECT_NE(c.chosen, "");
    }
  }
}

}  // namespace
}  // namespace rf
