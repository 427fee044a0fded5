// `rocmforge perplexity`: perplexity of a model on a text file, comparable with llama.cpp's.
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/timer.h"
#include "generation.h"
#include "runtime/perplexity.h"
#include "threading/thread_pool.h"

namespace rf::app {
namespace {

struct PerplexityOptions {
  EvalOptions eval;
  std::string file;
  std::string format;
  int64_t chunks = -1;
};

int run_perplexity(const PerplexityOptions& o) {
  auto text = read_text_file(o.file);
  if (!text.ok()) return fail(text.error().message);
  auto model = load_model(o.eval.model, o.eval.load);
  if (!model.ok()) return fail(model.error().message);
  std::vector<int32_t> tokens = model->tokenizer().encode(*text, true, false);
  const int64_t n_ctx = o.eval.n_ctx > 0 ? o.eval.n_ctx : 512;
  if (o.chunks >= 0) tokens.resize(std::min(tokens.size(), static_cast<size_t>(o.chunks * n_ctx)));
  ThreadPool pool(o.eval.threads);
  const double start = now_seconds();
  auto result = compute_perplexity(*model, pool, tokens, session_params(o.eval, n_ctx, true),
                                   [](int64_t done, int64_t total, double ppl) {
                                     std::fprintf(stderr, "[%lld/%lld] running perplexity %.4f\n",
                                                  static_cast<long long>(done), static_cast<long long>(total), ppl);
                                   });
  if (!result.ok()) return fail(result.error().message);
  const double seconds = now_seconds() - start;
  if (o.format == "json") {
    const nlohmann::json out = {{"perplexity", result->perplexity}, {"n_ctx", n_ctx},
                                {"n_chunks", result->n_chunks},     {"n_tokens", tokens.size()},
                                {"scored_tokens", result->scored_tokens}, {"seconds", seconds}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("perplexity: %.4f (%lld chunks of %lld tokens, %lld scored, %.2f s)\n", result->perplexity,
                static_cast<long long>(result->n_chunks), static_cast<long long>(n_ctx),
                static_cast<long long>(result->scored_tokens), seconds);
  }
  return 0;
}

}  // namespace

Command add_perplexity_command(CLI::App& root) {
  auto o = std::make_shared<PerplexityOptions>();
  CLI::App* cmd = root.add_subcommand("perplexity", "measure perplexity on a text file (llama.cpp's method)");
  add_eval_options(cmd, o->eval);
  add_cache_type_options(cmd, o->eval);
  add_output_option(cmd, o->format);
  cmd->add_option("-f,--file", o->file, "text file")->required();
  cmd->add_option("--chunks", o->chunks, "score at most this many chunks (-1 = all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-1}, int64_t{1} << 40));
  return {cmd, [o] { return run_perplexity(*o); }};
}

}  // namespace rf::app
