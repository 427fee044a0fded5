// `rocmforge run`: generate text from a prompt, streaming it to stdout.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "generation.h"
#include "sampling/sampler.h"
#include "threading/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace rf::app {
namespace {

struct RunOptions {
  EvalOptions eval;
  std::string prompt = "Once upon a time";
  int n_predict = 128;
  SamplingParams sampling;
  std::string format;
  bool no_display_prompt = false;
};

int run_generate(const RunOptions& o) {
  if (Status s = validate_sampling_params(o.sampling); !s.ok()) return fail(s.error().message);
  auto model = load_model(o.eval.model, o.eval.load);
  if (!model.ok()) return fail(model.error().message);
  const Tokenizer& tok = model->tokenizer();
  ThreadPool pool(o.eval.threads);
  auto session = Session::create(*model, pool, session_params(o.eval, o.eval.n_ctx, false));
  if (!session.ok()) return fail(session.error().message);

  const std::vector<int32_t> prompt_ids = tok.encode(o.prompt, true, true);
  if (prompt_ids.empty()) return fail("the prompt is empty and the model adds no BOS token");
  if (static_cast<int64_t>(prompt_ids.size()) > session->n_ctx()) {
    return fail("the prompt is " + std::to_string(prompt_ids.size()) + " tokens, but the context holds " +
                std::to_string(session->n_ctx()) + " (raise -c)");
  }
  const bool json = o.format == "json";
  if (!json && !o.no_display_prompt) {
    std::fputs(o.prompt.c_str(), stdout);
    std::fflush(stdout);
  }

  Sampler sampler(o.sampling, static_cast<int>(model->config().n_vocab));
  for (const int32_t id : prompt_ids) sampler.accept(id);
  if (Status s = session->eval(prompt_ids); !s.ok()) return fail(s.error().message);

  std::vector<int32_t> generated;
  generated.reserve(static_cast<size_t>(std::max(0, o.n_predict)));
  StreamDecoder decoder(tok);
  std::string text;
  const char* finish = "length";
  for (int i = 0; i < o.n_predict; ++i) {
    const int32_t id = sampler.sample(session->last_logits());
    if (tok.is_end_of_generation(id)) {
      finish = "stop";
      break;
    }
    sampler.accept(id);
    generated.push_back(id);
    const std::string piece = decoder.push(id);
    text += piece;
    if (!json) {
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
    }
    if (i + 1 == o.n_predict) break;
    if (session->n_past() >= session->n_ctx()) {
      finish = "context";
      std::fprintf(stderr, "\nwarning: the context (%lld tokens) is full; stopping\n",
                   static_cast<long long>(session->n_ctx()));
      break;
    }
    const int32_t next[] = {id};
    if (Status s = session->eval(next); !s.ok()) return fail(s.error().message);
  }
  const std::string tail = decoder.flush();
  text += tail;

  const SessionTimings& t = session->timings();
  const double pp_tps = t.prompt_seconds > 0 ? static_cast<double>(t.prompt_tokens) / t.prompt_seconds : 0.0;
  const double tg_tps = t.decode_seconds > 0 ? static_cast<double>(t.decode_tokens) / t.decode_seconds : 0.0;
  if (json) {
    nlohmann::json out = {
        {"prompt", o.prompt},
        {"prompt_ids", prompt_ids},
        {"generated_ids", generated},
        {"text", text},
        {"finish_reason", finish},
        {"timings",
         {{"prompt_tokens", prompt_ids.size()}, {"prompt_seconds", t.prompt_seconds}, {"prompt_tokens_per_second", pp_tps},
          {"generated_tokens", generated.size()}, {"decode_seconds", t.decode_seconds},
          {"decode_tokens_per_second", tg_tps}}},
    };
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s\n", tail.c_str());
  }
  std::fflush(stdout);
  std::fprintf(stderr, "prompt: %zu tokens, %.1f tokens/s | generation: %zu tokens, %.1f tokens/s | %d threads\n",
               prompt_ids.size(), pp_tps, generated.size(), tg_tps, pool.size());
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& root) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = root.add_subcommand("run", "generate text from a prompt");
  add_eval_options(cmd, o->eval);
  add_cache_type_options(cmd, o->eval);
  add_output_option(cmd, o->format);
  SamplingParams& s = o->sampling;
  cmd->add_option("-p,--prompt", o->prompt, "prompt")->capture_default_str();
  cmd->add_option("-n,--n-predict", o->n_predict, "tokens to generate")->capture_default_str()->check(CLI::Range(0, 1 << 24));
  add_sampling_options(cmd, s);
  cmd->add_flag("--no-display-prompt", o->no_display_prompt, "do not echo the prompt before the generation");
  return {cmd, [o] { return run_generate(*o); }};
}

}  // namespace rf::app
