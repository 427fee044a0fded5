// Options common to run, logits and perplexity, and the KV cache types of run and logits.
#include "generation.h"

namespace rf::app {

void add_eval_options(CLI::App* cmd, EvalOptions& o) {
  add_model_option(cmd, o.model);
  add_threads_option(cmd, o.threads);
  cmd->add_option("-c,--ctx-size", o.n_ctx, "context size (0 = the model's, at most 4096)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("-b,--batch-size", o.n_batch, "tokens per forward chunk during prompt evaluation")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  add_load_options(cmd, o.load);
}

void add_cache_type_options(CLI::App* cmd, EvalOptions& o) { add_cache_type_options(cmd, o.cache_type_k, o.cache_type_v); }

void add_cache_type_options(CLI::App* cmd, std::string& k_type, std::string& v_type) {
  cmd->add_option("--cache-type-k,--ctk", k_type, "KV cache type of keys: f32 or q8_0")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "q8_0"}));
  cmd->add_option("--cache-type-v,--ctv", v_type, "KV cache type of values: f32 or q8_0")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "q8_0"}));
}

void add_sampling_options(CLI::App* cmd, SamplingParams& s) {
  cmd->add_option("-s,--seed", s.seed, "random seed (default: random)");
  cmd->add_option("--temp", s.temperature, "temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", s.top_k, "top-k (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "top-p (1 = off)")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "min-p (0 = off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", s.repeat_penalty, "repetition penalty (1 = off)")->capture_default_str();
  cmd->add_option("--repeat-last-n", s.repeat_last_n, "tokens the penalties look back on")->capture_default_str();
  cmd->add_option("--presence-penalty", s.presence_penalty, "presence penalty (0 = off)")->capture_default_str();
  cmd->add_option("--frequency-penalty", s.frequency_penalty, "frequency penalty (0 = off)")->capture_default_str();
}

SessionParams session_params(const EvalOptions& o, int64_t n_ctx, bool logits_all) {
  SessionParams p;
  p.n_ctx = n_ctx;
  p.n_batch = o.n_batch;
  p.logits_all = logits_all;
  // The CLI accepted only names parse_kv_type knows.
  p.k_type = *parse_kv_type(o.cache_type_k);
  p.v_type = *parse_kv_type(o.cache_type_v);
  return p;
}

}  // namespace rf::app
