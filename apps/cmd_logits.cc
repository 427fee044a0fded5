// `rocmforge logits`: the top-K raw logits after every prompt position, as JSON, for engine comparisons.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "generation.h"
#include "threading/thread_pool.h"

namespace rf::app {
namespace {

struct LogitsOptions {
  EvalOptions eval;
  std::string prompt = "Once upon a time";
  int top_k = 5;
  bool no_bos = false;
};

int run_logits(const LogitsOptions& o) {
  auto model = load_model(o.eval.model, o.eval.load);
  if (!model.ok()) return fail(model.error().message);
  const std::vector<int32_t> ids = model->tokenizer().encode(o.prompt, !o.no_bos, true);
  if (ids.empty()) return fail("the prompt has no tokens");
  ThreadPool pool(o.eval.threads);
  const int64_t n_ctx = o.eval.n_ctx > 0 ? o.eval.n_ctx : static_cast<int64_t>(ids.size());
  auto session = Session::create(*model, pool, session_params(o.eval, n_ctx, true));
  if (!session.ok()) return fail(session.error().message);
  if (Status s = session->eval(ids); !s.ok()) return fail(s.error().message);

  const auto n_vocab = static_cast<int32_t>(model->config().n_vocab);
  const int k = std::min(o.top_k, static_cast<int>(n_vocab));
  std::vector<int32_t> order(static_cast<size_t>(n_vocab));
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::span<const float> logits = session->logits(static_cast<int64_t>(i));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    nlohmann::json row = nlohmann::json::array();
    for (int j = 0; j < k; ++j) row.push_back({order[j], logits[order[j]]});
    top.push_back(std::move(row));
  }
  const nlohmann::json out = {{"prompt_ids", ids}, {"prompt_top", top}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

Command add_logits_command(CLI::App& root) {
  auto o = std::make_shared<LogitsOptions>();
  CLI::App* cmd = root.add_subcommand("logits", "print the top-K raw logits after every prompt position (JSON)");
  add_eval_options(cmd, o->eval);
  add_cache_type_options(cmd, o->eval);
  cmd->add_option("-p,--prompt", o->prompt, "prompt")->capture_default_str();
  cmd->add_option("--top", o->top_k, "logits to keep per position")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--no-bos", o->no_bos, "do not add the BOS token");
  return {cmd, [o] { return run_logits(*o); }};
}

}  // namespace rf::app
