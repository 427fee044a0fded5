// Shared options for commands that evaluate a model: context, batch and threads.
#pragma once

#include "cli_common.h"
#include "model/session.h"

namespace rf::app {

struct EvalOptions {
  std::string model;
  int threads = 1;
  int64_t n_ctx = 0;
  int64_t n_batch = 64;
};

void add_eval_options(CLI::App* cmd, EvalOptions& o);

}  // namespace rf::app
