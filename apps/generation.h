// Shared options for commands that evaluate a model: context, batch, threads, weights and KV cache types.
#pragma once

#include "cli_common.h"
#include "model/session.h"
#include "sampling/sampler.h"

namespace rf::app {

struct EvalOptions {
  std::string model;
  int threads = 1;
  int64_t n_ctx = 0;
  int64_t n_batch = 512;
  std::string cache_type_k = "f32";  // KV cache storage: f32 | q8_0
  std::string cache_type_v = "f32";
  LoadOptions load;                  // --f16-as-bf16
};

void add_eval_options(CLI::App* cmd, EvalOptions& o);
// Adds --cache-type-k/--ctk and --cache-type-v/--ctv (llama.cpp spells them -ctk/-ctv; CLI11 2.1
// takes no multi-letter names after one dash). Only for commands whose sessions honour them.
void add_cache_type_options(CLI::App* cmd, EvalOptions& o);
void add_cache_type_options(CLI::App* cmd, std::string& k_type, std::string& v_type);

// Adds -s/--seed, --temp, --top-k, --top-p, --min-p and the penalties (llama.cpp's names).
void add_sampling_options(CLI::App* cmd, SamplingParams& s);

// The session parameters these options ask for (n_ctx given: commands pick their own defaults).
SessionParams session_params(const EvalOptions& o, int64_t n_ctx, bool logits_all);

}  // namespace rf::app
