// `rocmforge chat`: an interactive chat on stdin/stdout in the model's chat template. One session keeps
// the conversation in its KV cache; each turn evaluates only the tokens after the part it already holds.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/stop_strings.h"
#include "generation.h"
#include "sampling/sampler.h"
#include "threading/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace rf::app {
namespace {

struct ChatOptions {
  EvalOptions eval;
  SamplingParams sampling;
  int n_predict = -1;  // tokens per reply; -1: until the end of the turn or a full context
  std::string system_prompt;
  std::string template_file;
};

class Chat {
 public:
  Chat(const ChatOptions& o, const Model& model, Session& session, ChatTemplate tmpl)
      : o_(o), tok_(model.tokenizer()), session_(session), template_(std::move(tmpl)),
        sampler_(o.sampling, static_cast<int>(model.config().n_vocab)) {
    if (!o.system_prompt.empty()) messages_.push_back({"system", o.system_prompt});
  }

  // One exchange: the user's line in, the reply streamed to stdout. Errors here are about this turn
  // (a template error, a message too long): they are reported and the chat goes on.
  void turn(const std::string& user_line) {
    messages_.push_back({"user", user_line});
    std::vector<int32_t> ids;
    if (!prompt_ids(ids)) {
      messages_.pop_back();
      return;
    }
    const SessionTimings before = session_.timings();
    const size_t reused = reuse_prefix(ids);
    const std::span<const int32_t> fresh(ids.data() + reused, ids.size() - reused);
    if (Status s = session_.eval(fresh); !s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.error().message.c_str());
      messages_.pop_back();
      return;
    }
    cached_.insert(cached_.end(), fresh.begin(), fresh.end());
    for (const int32_t id : fresh) sampler_.accept(id);

    const std::string reply = generate();
    messages_.push_back({"assistant", reply});

    const SessionTimings& after = session_.timings();
    const double pp_s = after.prompt_seconds - before.prompt_seconds;
    const double tg_s = after.decode_seconds - before.decode_seconds;
    const auto tg_n = after.decode_tokens - before.decode_tokens;
    std::fprintf(stderr, "turn %d: prompt %zu tokens (%zu reused, %zu evaluated, %.1f tokens/s) | reply %lld tokens, %.1f tokens/s\n",
                 ++turns_, ids.size(), reused, fresh.size(), pp_s > 0 ? static_cast<double>(fresh.size()) / pp_s : 0.0,
                 static_cast<long long>(tg_n), tg_s > 0 ? static_cast<double>(tg_n) / tg_s : 0.0);
  }

 private:
  // The whole conversation as tokens, leaving room for a reply. When it no longer fits the context,
  // the oldest exchanges go (the system message stays); if the new message alone does not fit, false.
  bool prompt_ids(std::vector<int32_t>& ids) {
    while (true) {
      auto prompt = template_.apply(messages_, true);
      if (!prompt.ok()) {
        std::fprintf(stderr, "error: %s\n", prompt.error().message.c_str());
        return false;
      }
      ids = template_.tokenize(tok_, *prompt);
      const auto room = static_cast<size_t>(session_.n_ctx());
      if (ids.size() < room) return true;
      const size_t first = !messages_.empty() && messages_[0].role == "system" ? 1 : 0;
      if (messages_.size() - first <= 1) {
        std::fprintf(stderr, "error: the message needs %zu tokens with the template, but the context holds %zu (raise -c)\n",
                     ids.size(), room);
        return false;
      }
      // Drop the oldest user message and the replies up to the next one.
      size_t end = first + 1;
      while (end < messages_.size() - 1 && messages_[end].role != "user") ++end;
      messages_.erase(messages_.begin() + static_cast<ptrdiff_t>(first), messages_.begin() + static_cast<ptrdiff_t>(end));
      std::fprintf(stderr, "note: the conversation no longer fits the context (%zu tokens); dropped the oldest exchange\n", room);
    }
  }

  // Rewinds the session to the longest prefix of `ids` it already holds; returns its length. At least
  // one token is left to evaluate, for the logits of the next.
  size_t reuse_prefix(const std::vector<int32_t>& ids) {
    size_t n = 0;
    while (n < cached_.size() && n < ids.size() && cached_[n] == ids[n]) ++n;
    if (n == ids.size()) --n;
    session_.rewind(static_cast<int64_t>(n));
    cached_.resize(n);
    return n;
  }

  // Samples until an end-of-generation token, a stop string, -n or a full context; streams to stdout.
  std::string generate() {
    StreamDecoder decoder(tok_);
    StopMatcher stop(template_.stop_strings());
    std::string text;
    auto show = [&](const std::string& piece) {
      text += piece;
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
    };
    for (int i = 0; o_.n_predict < 0 || i < o_.n_predict; ++i) {
      const int32_t id = sampler_.sample(session_.last_logits());
      if (tok_.is_end_of_generation(id)) break;
      sampler_.accept(id);
      show(stop.push(decoder.push(id)));
      if (stop.stopped() || i + 1 == o_.n_predict) break;
      if (session_.n_past() >= session_.n_ctx()) {
        std::fprintf(stderr, "\nwarning: the context (%lld tokens) is full; the reply is cut here\n",
                     static_cast<long long>(session_.n_ctx()));
        break;
      }
      const int32_t next[] = {id};
      if (Status s = session_.eval(next); !s.ok()) {
        std::fprintf(stderr, "\nerror: %s\n", s.error().message.c_str());
        break;
      }
      cached_.push_back(id);
    }
    if (!stop.stopped()) {
      show(stop.push(decoder.flush()));
      if (!stop.stopped()) show(stop.flush());
    }
    std::fputs("\n", stdout);
    std::fflush(stdout);
    return text;
  }

  const ChatOptions& o_;
  const Tokenizer& tok_;
  Session& session_;
  ChatTemplate template_;
  Sampler sampler_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> cached_;  // the tokens in the session's KV cache, in order
  int turns_ = 0;
};

int run_chat(const ChatOptions& o) {
  if (Status s = validate_sampling_params(o.sampling); !s.ok()) return fail(s.error().message);
  auto model = load_model(o.eval.model, o.eval.load);
  if (!model.ok()) return fail(model.error().message);
  ThreadPool pool(o.eval.threads);
  auto session = Session::create(*model, pool, session_params(o.eval, o.eval.n_ctx, false));
  if (!session.ok()) return fail(session.error().message);

  const Tokenizer& tok = model->tokenizer();
  auto tmpl = [&]() -> Result<ChatTemplate> {
    if (o.template_file.empty()) return ChatTemplate::for_model(model->file(), tok);
    auto source = read_text_file(o.template_file);
    if (!source.ok()) return source.error();
    return ChatTemplate::from_string(*source, tok.bos_id() != kNoToken ? tok.token_text(tok.bos_id()) : "",
                                     tok.eos_id() != kNoToken ? tok.token_text(tok.eos_id()) : "");
  }();
  if (!tmpl.ok()) return fail(tmpl.error().message);
  if (tmpl->is_default()) std::fprintf(stderr, "note: %s\n", tmpl->note().c_str());

  Chat chat(o, *model, *session, std::move(tmpl).value());
  const bool interactive = isatty(STDIN_FILENO) != 0;
  if (interactive) std::fprintf(stderr, "chat: one message per line; /exit or Ctrl-D ends\n");
  std::string line;
  while (true) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "/exit") break;
    if (line.empty()) continue;
    chat.turn(line);
  }
  if (interactive) std::fputs("\n", stdout);
  return 0;
}

}  // namespace

Command add_chat_command(CLI::App& root) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = root.add_subcommand("chat", "chat with a model in its chat template (stdin: one message per line)");
  add_eval_options(cmd, o->eval);
  add_cache_type_options(cmd, o->eval);
  SamplingParams& s = o->sampling;
  // -sys (llama.cpp's spelling) is rewritten to --sys by main().
  cmd->add_option("--sys,--system-prompt", o->system_prompt, "system message that opens the conversation");
  cmd->add_option("--chat-template-file", o->template_file, "Jinja chat template to use instead of the model's");
  cmd->add_option("-n,--n-predict", o->n_predict, "tokens per reply (-1 = until the end of the turn)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1 << 24));
  add_sampling_options(cmd, s);
  return {cmd, [o] { return run_chat(*o); }};
}

}  // namespace rf::app
