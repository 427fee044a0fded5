// Session's forward pass against the double-precision reference on random llama and qwen2 models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "cpu/kernels.h"
#include "model/session.h"
#include "reference_forward.h"
#include "threading/thread_pool.h"
#include "tiny_model.h"

namespace rf {
namespace {

struct ForwardCase {
  const char* name;
  test::TinyModelSpec spec;
};

std::vector<ForwardCase> forward_cases() {
  std::vector<ForwardCase> cases;
  const auto with = [](std::string arch, DType type) {
    test::TinyModelSpec s;
    s.arch = std::move(arch);
    s.matrix_type = type;
    if (s.arch == "qwen2") {
      s.tied_output = true;
      s.qkv_bias = true;
      s.rope_base = 1e6f;
    }
    return s;
  };
  for (const DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1,
                        DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    cases.push_back({"llama", with("llama", t)});
  }
  cases.push_back({"qwen2", with("qwen2", DType::kF32)});
  cases.push_back({"qwen2", with("qwen2", DType::kQ8_0)});
  test::TinyModelSpec mha = with("llama", DType::kF32);  // no grouping, odd FFN width, linear RoPE scaling
  mha.n_head_kv = mha.n_head;
  mha.n_ff = 160;
  mha.rope_linear_factor = 4.0f;
  cases.push_back({"llama-mha-scaled", mha});
  return cases;
}

TEST(Forward, MatchesDoublePrecisionReference) {
  ThreadPool pool(2);
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 17, 300, 511, 2, 44, 45, 46, 99};
  for (const ForwardCase& fc : forward_cases()) {
    const std::string label = std::string(fc.name) + "/" + std::string(dtype_name(fc.spec.matrix_type));
    SCOPED_TRACE(label);
    const std::string path = test::write_tiny_model(fc.spec, label.substr(0, label.find('/')));
    auto model = Model::load(path);
    std::remove(path.c_str());
    ASSERT_TRUE(model.ok()) << model.error().message;
    auto session = Session::create(*model, pool, {32, 5, true});  // chunks of 5: 5 + 5 + 3
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE(session->eval(tokens).ok());
    const auto expected = test::reference_logits(*model, tokens);
    // Kernels that round activations add that rounding's error on top of f32 summation. Per element
    // it is about amax / (127 * sqrt(12)) of the RMS for int8 blocks (amax ~ 2.0 sigma over 32
    // values: 0.45 %; ~ 2.8 sigma over 256: 0.64 %) and 2^-9 / sqrt(3) (0.11 %) for bf16. Logits
    // of this 2-layer model carry about 3x the per-element error; allow 4x in RMS, 12x at the max.
    double per_element = 0.0;
    switch (cpu::kernels().for_type(fc.spec.matrix_type).act) {
      case cpu::ActFormat::kF32: per_element = 0.0; break;
      case cpu::ActFormat::kBF16: per_element = 1.1e-3; break;
      case cpu::ActFormat::kQ8: per_element = 4.5e-3; break;
      case cpu::ActFormat::kQ8K: per_element = 6.4e-3; break;
    }
    const double rms_tol = per_element > 0 ? 4 * per_element : 1e-4;
    const double max_tol = per_element > 0 ? 12 * per_element : 1e-4;
    for (size_t t = 0; t < tokens.size(); ++t) {
      const auto got = session->logits(static_cast<int64_t>(t));
      double max_err = 0.0, max_ref = 0.0, sq_err = 0.0, sq_ref = 0.0;
      for (size_t i = 0; i < got.size(); ++i) {
        const double err = std::abs(got[i] - expected[t][i]);
        max_err = std::max(max_err, err);
        max_ref = std::max(max_ref, std::abs(expected[t][i]));
        sq_err += err * err;
        sq_ref += expected[t][i] * expected[t][i];
      }
      EXPECT_LT(max_err, max_tol * std::max(1.0, max_ref)) << "position " << t << " (max |logit| " << max_ref << ")";
      EXPECT_LT(std::sqrt(sq_err), rms_tol * std::sqrt(sq_ref)) << "position " << t;
    }
  }
}

TEST(Forward, ModelErrorsNameTheProblem) {
  const auto load_error = [](const test::TinyModelSpec& spec) {
    const std::string path = test::write_tiny_model(spec, "bad");
    auto model = Model::load(path);
    std::remove(path.c_str());
    return model.ok() ? std::string() : model.error().message;
  };
  test::TinyModelSpec unknown;
  unknown.arch = "gptj";
  EXPECT_NE(load_error(unknown).find("unknown architecture 'gptj'"), std::string::npos);

  test::TinyModelSpec missing;
  missing.drop_tensor = "blk.1.ffn_up.weight";
  EXPECT_NE(load_error(missing).find("missing tensor 'blk.1.ffn_up.weight'"), std::string::npos);

  test::TinyModelSpec huge_layers;  // a corrupt count must fail before anything is sized by it
  huge_layers.claimed_layers = 2'000'000'000;
  EXPECT_NE(load_error(huge_layers).find("block_count' is 2000000000"), std::string::npos);

  test::TinyModelSpec no_bias;
  no_bias.arch = "qwen2";
  no_bias.qkv_bias = true;
  no_bias.drop_tensor = "blk.0.attn_k.bias";
  EXPECT_NE(load_error(no_bias).find("missing tensor 'blk.0.attn_k.bias'"), std::string::npos);
}

}  // namespace
}  // namespace rf
