// Load-time conversions: with f16_as_bf16 every F16 matrix becomes its bf16 rounding and the
// forward pass stays within bf16's error; repacked (interleaved) weights give identical logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cpu/repack.h"
#include "model/session.h"
#include "quant/fp16.h"
#include "threading/thread_pool.h"
#include "tiny_model.h"

namespace rf {
namespace {

std::vector<std::vector<float>> all_logits(const Model& model, ThreadPool& pool, const std::vector<int32_t>& tokens) {
  auto session = Session::create(model, pool, {32, 4, true});
  EXPECT_TRUE(session.ok());
  EXPECT_TRUE(session->eval(tokens).ok());
  std::vector<std::vector<float>> out;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const auto l = session->logits(static_cast<int64_t>(t));
    out.emplace_back(l.begin(), l.end());
  }
  return out;
}

TEST(WeightConvert, F16BecomesRoundedBf16AndLogitsStayClose) {
  for (const char* arch : {"llama", "qwen2"}) {
    SCOPED_TRACE(arch);
    test::TinyModelSpec spec;
    spec.arch = arch;
    spec.matrix_type = DType::kF16;
    spec.tied_output = std::string(arch) == "qwen2";
    spec.qkv_bias = spec.tied_output;
    const std::string path = test::write_tiny_model(spec, std::string("convert-") + arch);
    auto plain = Model::load(path);
    LoadOptions options;
    options.f16_as_bf16 = true;
    options.repack = false;  // rows as in the file, to compare element by element
    auto converted = Model::load(path, options);
    std::remove(path.c_str());
    ASSERT_TRUE(plain.ok() && converted.ok());

    // Each converted weight is the bf16 rounding of the file's f16 value.
    int n_matrices = 0;
    for_each_matrix(converted->weights(), [&](const cpu::MatrixView& m) {
      ASSERT_EQ(m.type, DType::kBF16);
      ++n_matrices;
    });
    EXPECT_EQ(n_matrices, 2 + 7 * spec.n_layer);
    const auto check_same = [](const gguf::TensorInfo& file_tensor, const cpu::MatrixView& m) {
      const auto* f16 = reinterpret_cast<const uint16_t*>(file_tensor.data);
      const auto* bf16 = reinterpret_cast<const uint16_t*>(m.data);
      for (int64_t i = 0; i < m.rows * m.cols; i += 7) ASSERT_EQ(bf16[i], f32_to_bf16(fp16_to_f32(f16[i]))) << i;
    };
    check_same(*converted->file().find_tensor("blk.1.ffn_down.weight"), converted->weights().layers[1].w_down);
    check_same(*converted->file().find_tensor("token_embd.weight"), converted->weights().token_embd);
    if (spec.tied_output) {
      EXPECT_EQ(converted->weights().output.data, converted->weights().token_embd.data);
    }

    // bf16 weights add about 2^-9 / sqrt(3) (0.11 %) RMS relative error per product on top of
    // the bf16 activations' own 0.11 %: ~0.16 % per element; this 2-layer model's logits carry
    // about 3x that, allow 4x in RMS.
    ThreadPool pool(2);
    const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 17, 300, 511, 2, 44, 45};
    const auto want = all_logits(*plain, pool, tokens);
    const auto got = all_logits(*converted, pool, tokens);
    for (size_t t = 0; t < tokens.size(); ++t) {
      double sq_err = 0.0, sq_ref = 0.0;
      for (size_t i = 0; i < got[t].size(); ++i) {
        const double err = got[t][i] - want[t][i];
        sq_err += err * err;
        sq_ref += static_cast<double>(want[t][i]) * want[t][i];
      }
      EXPECT_GT(sq_err, 0.0) << "conversion changed nothing at position " << t;
      EXPECT_LT(std::sqrt(sq_err), 4 * 1.6e-3 * std::sqrt(sq_ref)) << "position " << t;
    }
  }
}

TEST(WeightConvert, RepackedModelsGiveIdenticalLogits) {
  for (const DType type : {DType::kQ4_0, DType::kQ8_0, DType::kF16}) {
    if (!cpu::interleaving_helps(cpu::MatrixView{nullptr, type, 16, 32, *row_bytes(type, 32)})) {
      GTEST_SKIP() << "no interleaved kernels on this CPU's level";
    }
    for (const bool tied : {false, true}) {
      SCOPED_TRACE(testing::Message() << dtype_name(type) << (tied ? " tied" : ""));
      test::TinyModelSpec spec;
      spec.matrix_type = type;
      spec.tied_output = tied;
      spec.n_ff = 224;  // an odd number of blocks (row remainders are covered by tests/cpu_driver)
      const std::string path = test::write_tiny_model(spec, "repack");
      LoadOptions file_layout;
      file_layout.repack = false;
      auto plain = Model::load(path, file_layout);
      auto repacked = Model::load(path);
      std::remove(path.c_str());
      ASSERT_TRUE(plain.ok() && repacked.ok());
      int interleaved = 0;
      for_each_matrix(repacked->weights(), [&](const cpu::MatrixView& m) { interleaved += m.layout == cpu::MatrixLayout::kInterleaved16; });
      // All but the embeddings, which a tied output shares (one copy, looked up by row).
      EXPECT_EQ(interleaved, (tied ? 2 : 1) + 7 * spec.n_layer);
      if (tied) {
        EXPECT_EQ(repacked->weights().output.data, repacked->weights().token_embd.data);
      }
      ThreadPool pool(2);
      const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 17, 300, 511, 2, 44, 45};
      EXPECT_EQ(all_logits(*plain, pool, tokens), all_logits(*repacked, pool, tokens));
    }
  }
}

// Repacked k-quants are batch-invariant: a prompt evaluated in one batch gives, at every position,
// the same logits bit for bit as the same prompt fed in chunks of 1, 3 and 8 tokens (the serving
// engine's solo == batched guarantee, for Q4_K_M-style models).
TEST(WeightConvert, RepackedKQuantModelsAreBatchInvariant) {
  for (const DType type : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    if (!cpu::interleaving_helps(cpu::MatrixView{nullptr, type, 16, 256, *row_bytes(type, 256)})) {
      GTEST_SKIP() << "no interleaved kernels on this CPU's level";
    }
    SCOPED_TRACE(dtype_name(type));
    test::TinyModelSpec spec;
    spec.matrix_type = type;
    const std::string path = test::write_tiny_model(spec, "kquant_invariance");
    auto model = Model::load(path);
    std::remove(path.c_str());
    ASSERT_TRUE(model.ok());
    ThreadPool pool(2);
    const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 17, 300, 511, 2, 44, 45, 90, 91, 92, 93, 94, 95, 96, 97};
    const auto whole = all_logits(*model, pool, tokens);
    for (const size_t chunk : {1, 3, 8}) {
      auto session = Session::create(*model, pool, {32, 8, true});
      ASSERT_TRUE(session.ok());
      for (size_t t0 = 0; t0 < tokens.size(); t0 += chunk) {
        const size_t n = std::min(chunk, tokens.size() - t0);
        ASSERT_TRUE(session->eval(std::span(tokens).subspan(t0, n)).ok());
        for (size_t i = 0; i < n; ++i) {
          const auto l = session->logits(static_cast<int64_t>(i));
          ASSERT_TRUE(std::equal(l.begin(), l.end(), whole[t0 + i].begin())) << "chunk " << chunk << " position " << t0 + i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace rf
