// libFuzzer entry for the tokenizers: any bytes, any vocabulary, special parsing on or off.
//
// Checks what must hold for every input: ids are in range, the streaming decoder's output equals
// decode() and is valid UTF-8 — and nothing crashes, hangs or reads out of bounds.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "gguf/gguf.h"
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

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& all = vocabs();
  const Vocab& v = all[data[0] % all.size()];
  const bool parse_special = (data[0] >> 4) & 1;
  const bool add_bos = (data[0] >> 5) & 1;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<int32_t> ids = v.tokenizer.encode(text, add_bos, parse_special);
  for (const int32_t id : ids) {
    if (id < 0 || id >= v.tokenizer.n_vocab()) std::abort();
  }
  const std::string decoded = v.tokenizer.decode(ids, false);
  // decode() drops the SPM space prefix from the first piece; the stream does so when asked.
  rf::StreamDecoder stream(v.tokenizer, false, v.tokenizer.adds_space_prefix());
  std::string streamed;
  for (const int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  if (!valid_utf8(streamed)) std::abort();
  if (valid_utf8(decoded) && streamed != decoded) std::abort();
  return 0;
}
