// `rocmforge tokenize`: text to token ids with a model's (or vocab-only file's) tokenizer.
#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace rf::app {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string prompt;
  std::string file;
  bool no_bos = false;
  bool no_parse_special = false;
  bool ids_only = false;
};

int run_tokenize(const TokenizeOptions& o) {
  std::string text = o.prompt;
  if (!o.file.empty()) {
    auto content = read_text_file(o.file);
    if (!content.ok()) return fail(content.error().message);
    text = std::move(content).value();
  }
  auto file = gguf::File::open(o.model);
  if (!file.ok()) return fail(file.error().message);
  auto tokenizer = Tokenizer::from_gguf(*file);
  if (!tokenizer.ok()) return fail(o.model + ": " + tokenizer.error().message);

  const std::vector<int32_t> ids = tokenizer->encode(text, !o.no_bos, !o.no_parse_special);
  if (o.ids_only) {
    std::string line = "[";
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? ", " : "") + std::to_string(ids[i]);
    std::printf("%s]\n", line.c_str());
    return 0;
  }
  for (const int32_t id : ids) {
    std::printf("%6d -> '%s'\n", id, tokenizer->token_to_piece(id, true).c_str());
  }
  return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = root.add_subcommand("tokenize", "print the token ids of a text (vocab-only GGUF files work)");
  add_model_option(cmd, o->model);
  auto* prompt = cmd->add_option("-p,--prompt", o->prompt, "text to tokenize");
  auto* file = cmd->add_option("-f,--file", o->file, "file whose contents to tokenize");
  prompt->excludes(file);
  cmd->add_flag("--no-bos", o->no_bos, "do not add the BOS token even if the vocabulary asks for it");
  cmd->add_flag("--no-parse-special", o->no_parse_special, "treat special-token text as plain text");
  cmd->add_flag("--ids", o->ids_only, "print only the ids, as [id, id, ...]");
  return {cmd, [o] { return run_tokenize(*o); }};
}

}  // namespace rf::app
