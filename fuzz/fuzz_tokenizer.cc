// libFuzzer entry for the tokenizers: any bytes, any vocabulary, special parsing on or off.
//
// The first byte picks the vocabulary (byte % 6) and the flags (bit 4 parse_special, bit 5 add_bos,
// bit 7 render_special); the rest is the text. Checks what must hold for every input: ids are in
// range, each streamed chunk is valid UTF-8, and the stream equals decode() (or the plain pieces, when
// not stripping) with ill-formed parts replaced as Unicode recommends — and nothing crashes, hangs or
// reads out of bounds.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "support/utf8_reference.h"
#include "tokenizer/tokenizer.h"

namespace {

struct Vocab {
  rf::gguf::File file;
  rf::Tokenizer tokenizer;
};

std::vector<Vocab>& vocabs() {
  static std::vector<Vocab> v = [] {
    std::vector<Vocab> out;
    for (const char* name : {"llama-spm", "gpt-2", "qwen2", "falcon", "phi-3", "deepseek-coder"}) {
      const std::string path = std::string(ROCMFORGE_SHARED_DIR) + "/models/vocab/ggml-vocab-" + name + ".gguf";
      auto file = rf::gguf::File::open(path);
      if (!file.ok()) std::abort();
      auto tok = rf::Tokenizer::from_gguf(*file);
      if (!tok.ok()) std::abort();
      out.push_back({std::move(file).value(), std::move(tok).value()});
    }
    return out;
  }();
  return v;
}

std::string stream(const rf::Tokenizer& tok, const std::vector<int32_t>& ids, bool render, bool strip) {
  rf::StreamDecoder decoder(tok, render, strip);
  std::string out;
  for (const int32_t id : ids) {
    const std::string piece = decoder.push(id);
    if (rf::test::well_formed_reference(piece) != piece) std::abort();
    out += piece;
  }
  return out + decoder.flush();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& all = vocabs();
  const Vocab& v = all[data[0] % all.size()];
  const bool parse_special = (data[0] >> 4) & 1;
  const bool add_bos = (data[0] >> 5) & 1;
  const bool render_special = (data[0] >> 7) & 1;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<int32_t> ids = v.tokenizer.encode(text, add_bos, parse_special);
  for (const int32_t id : ids) {
    if (id < 0 || id >= v.tokenizer.n_vocab()) std::abort();
  }
  // decode() may hold any bytes (byte tokens, leniently read surrogates); the stream gives the same
  // text with ill-formed parts replaced, stripping decode's leading space only when asked.
  const std::string decoded = v.tokenizer.decode(ids, render_special);
  if (stream(v.tokenizer, ids, render_special, true) != rf::test::well_formed_reference(decoded)) std::abort();
  std::string pieces;
  for (const int32_t id : ids) pieces += v.tokenizer.token_to_piece(id, render_special);
  if (stream(v.tokenizer, ids, render_special, false) != rf::test::well_formed_reference(pieces)) std::abort();
  return 0;
}
