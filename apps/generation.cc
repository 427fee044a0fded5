// Options common to run, logits and perplexity.
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
}

}  // namespace rf::app
