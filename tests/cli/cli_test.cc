// End-to-end tests of the rocmforge binary: output formats, references, and clean failures.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

namespace {

const std::string kShared = ROCMFORGE_SHARED_DIR;
using rf::test::CliOutput;
using rf::test::run_cli;

nlohmann::json reference() {
  std::ifstream in(kShared + "/reference/stories260K.json");
  return nlohmann::json::parse(in);
}

TEST(Cli, RunGreedyReproducesReferenceContinuations) {
  for (const auto& c : reference()["cases"]) {
    const auto expected = c["greedy_ids"].get<std::vector<int>>();
    const CliOutput o = run_cli("run -m " + kShared + "/models/stories260K.gguf --temp 0 -o json -n " +
                         std::to_string(expected.size()) + " -p '" + c["prompt"].get<std::string>() + "'");
    ASSERT_EQ(o.exit_code, 0) << o.err;
    const auto j = nlohmann::json::parse(o.out);
    EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), c["prompt_ids"].get<std::vector<int>>());
    EXPECT_EQ(j["generated_ids"].get<std::vector<int>>(), expected);
    EXPECT_FALSE(j["text"].get<std::string>().empty());
  }
}

TEST(Cli, RunWithNoFlagsUsesTheSharedModel) {
  const CliOutput o = run_cli("run -n 8 -s 1");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("Once upon a time", 0), 0u) << o.out;
  EXPECT_NE(o.err.find("Detected: CPU"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("tokens/s"), std::string::npos) << o.err;
}

TEST(Cli, SeededSamplingIsReproducible) {
  const std::string args = "run -n 24 -s 42 --temp 0.9 -o json -p 'Once upon a time'";
  const CliOutput a = run_cli(args);
  const CliOutput b = run_cli(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(nlohmann::json::parse(a.out)["generated_ids"], nlohmann::json::parse(b.out)["generated_ids"]);
}

TEST(Cli, LogitsMatchReference) {
  for (const auto& c : reference()["cases"]) {
    const CliOutput o = run_cli("logits -m " + kShared + "/models/stories260K.gguf --top 5 -p '" +
                         c["prompt"].get<std::string>() + "'");
    ASSERT_EQ(o.exit_code, 0) << o.err;
    const auto j = nlohmann::json::parse(o.out);
    ASSERT_EQ(j["prompt_top"].size(), c["prompt_top"].size());
    for (size_t pos = 0; pos < j["prompt_top"].size(); ++pos) {
      for (size_t k = 0; k < 5; ++k) {
        const auto& got = j["prompt_top"][pos][k];
        const auto& want = c["prompt_top"][pos][k];
        EXPECT_EQ(got[0].get<int>(), want[0].get<int>()) << "position " << pos << " rank " << k;
        EXPECT_NEAR(got[1].get<double>(), want[1].get<double>(), 1e-2);
      }
    }
  }
}

TEST(Cli, PerplexityJson) {
  const CliOutput o = run_cli("perplexity -c 128 -o json -f " + kShared + "/reference/stories260K-sample.txt");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NEAR(nlohmann::json::parse(o.out)["perplexity"].get<double>(), 2.7874, 5e-3);
}

TEST(Cli, TokenizeIdsOnVocabOnlyFile) {
  const CliOutput o = run_cli("tokenize -m " + kShared + "/models/vocab/ggml-vocab-llama-spm.gguf -p 'Hello world' --ids");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out.front(), '[');
  EXPECT_NE(o.out.find("1, "), std::string::npos) << "BOS first: " << o.out;
  const CliOutput no_bos = run_cli("tokenize -m " + kShared + "/models/vocab/ggml-vocab-llama-spm.gguf -p 'Hello world' --ids --no-bos");
  EXPECT_EQ(no_bos.out.find("[1, "), std::string::npos) << no_bos.out;
}

TEST(Cli, HardwareJsonHasTheDocumentedKeys) {
  for (const std::string args : {"hardware -o json", "--hardware -o json"}) {
    const CliOutput o = run_cli(args);
    ASSERT_EQ(o.exit_code, 0) << o.err;
    const auto j = nlohmann::json::parse(o.out);
    EXPECT_GE(j["cpu"]["physical_cores"].get<int>(), 1);
    EXPECT_GE(j["cpu"]["logical_cores"].get<int>(), 1);
    EXPECT_TRUE(j["cpu"]["simd"].is_array());
    EXPECT_GT(j["memory"]["total_bytes"].get<uint64_t>(), 0u);
    EXPECT_TRUE(j.contains("igpu") && j.contains("dgpu") && j.contains("tier"));
  }
  const CliOutput text = run_cli("hardware");
  EXPECT_EQ(text.out.rfind("Detected: CPU (", 0), 0u) << text.out;
}

// llama-bench's JSON: one object per test with n_prompt, n_gen, n_threads, avg_ts, stddev_ts.
TEST(Cli, BenchSpeaksLlamaBenchJson) {
  const CliOutput o = run_cli("bench -p 16 -n 4 -t 1,2 -r 2 --roofline -o json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 4u);  // (pp16, tg4) x (1, 2 threads)
  for (const auto& test : j) {
    const int n_prompt = test["n_prompt"].get<int>();
    const int n_gen = test["n_gen"].get<int>();
    EXPECT_TRUE((n_prompt == 16 && n_gen == 0) || (n_prompt == 0 && n_gen == 4)) << test.dump();
    EXPECT_TRUE(test["n_threads"].get<int>() == 1 || test["n_threads"].get<int>() == 2);
    EXPECT_GT(test["avg_ts"].get<double>(), 0.0);
    EXPECT_GE(test["stddev_ts"].get<double>(), 0.0);
    EXPECT_EQ(test["samples_ts"].size(), 2u);
    EXPECT_GT(test["roofline"]["read_gbps"].get<double>(), 0.0);
    EXPECT_GT(test["roof_fraction"].get<double>(), 0.0);
  }
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const std::string sub : {"hardware", "tokenize", "run", "logits", "perplexity", "bench"}) {
    const CliOutput o = run_cli(sub + " --help");
    EXPECT_EQ(o.exit_code, 0) << sub;
    EXPECT_NE(o.out.find("Usage"), std::string::npos) << sub << ": " << o.out;
  }
}

TEST(Cli, BadInputFailsCleanly) {
  const CliOutput missing = run_cli("run -m /nonexistent/model.gguf -n 4");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;

  const CliOutput vocab_only = run_cli("run -m " + kShared + "/models/vocab/ggml-vocab-gpt-2.gguf -n 4");
  EXPECT_EQ(vocab_only.exit_code, 1);
  EXPECT_NE(vocab_only.err.find("unknown architecture 'gpt2'"), std::string::npos) << vocab_only.err;

  const CliOutput no_tensors = run_cli("run -m " + kShared + "/models/vocab/ggml-vocab-llama-spm.gguf -n 4");
  EXPECT_EQ(no_tensors.exit_code, 1);
  EXPECT_NE(no_tensors.err.find("holds no tensors"), std::string::npos) << no_tensors.err;

  const CliOutput long_prompt = run_cli("run -c 8 -n 4 -p 'Once upon a time there was a little girl named Lily'");
  EXPECT_EQ(long_prompt.exit_code, 1);
  EXPECT_NE(long_prompt.err.find("context"), std::string::npos) << long_prompt.err;

  const CliOutput bad_flag = run_cli("run --temp banana");
  EXPECT_NE(bad_flag.exit_code, 0);
  EXPECT_NE(bad_flag.exit_code, -1);
}

}  // namespace
