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

// An oracle written from the definition, independent of src/tokenizer/unicode.cc: the code point a
// complete n-byte sequence spells if it is well-formed UTF-8 (the shortest form of a scalar value), else -1.
int64_t scalar(const unsigned char* p, size_t n) {
  static constexpr unsigned kPayload[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  static constexpr unsigned kTag[5] = {0, 0x00, 0xC0, 0xE0, 0xF0};
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if ((p[0] & ~kPayload[n] & 0xFFu) != kTag[n]) return -1;
  uint32_t cp = p[0] & kPayload[n];
  for (size_t k = 1; k < n; ++k) {
    if ((p[k] & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (p[k] & 0x3Fu);
  }
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

// Whether p[0..k) begins some longer well-formed sequence: only the first two bytes constrain the
// rest, so trying every next byte with plain continuations after it decides it.
bool begins_sequence(const unsigned char* p, size_t k) {
  for (size_t n = k + 1; n <= 4; ++n) {
    unsigned char buf[4] = {0x80, 0x80, 0x80, 0x80};
    for (size_t i = 0; i < k; ++i) buf[i] = p[i];
    for (unsigned b = 0x80; b <= 0xBF; ++b) {
      buf[k] = static_cast<unsigned char>(b);
      if (scalar(buf, n) >= 0) return true;
    }
  }
  return false;
}

// s with each maximal subpart of an ill-formed sequence (the longest prefix of a well-formed one, or
// one byte) replaced by U+FFFD, as Unicode recommends and the stream decoder promises; s if valid.
std::string well_formed(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t left = s.size() - i;
    size_t n = 1;
    while (n <= 4 && (n > left || scalar(p + i, n) < 0)) ++n;
    if (n <= 4) {
      out.append(s, i, n);
      i += n;
      continue;
    }
    size_t k = 1;
    for (size_t m = 1; m < 4 && m <= left; ++m) {
      if (begins_sequence(p + i, m)) k = m;
    }
    out += "\xEF\xBF\xBD";
    i += k;
  }
  return out;
}

// Streams ids and checks that every push returns whole characters only.
std::string stream(const rf::Tokenizer& tok, const std::vector<int32_t>& ids, bool render, bool strip) {
  rf::StreamDecoder decoder(tok, render, strip);
  std::string out;
  for (const int32_t id : ids) {
    const std::string piece = decoder.push(id);
    if (well_formed(piece) != piece) std::abort();
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
  if (stream(v.tokenizer, ids, render_special, true) != well_formed(decoded)) std::abort();
  std::string pieces;
  for (const int32_t id : ids) pieces += v.tokenizer.token_to_piece(id, render_special);
  if (stream(v.tokenizer, ids, render_special, false) != well_formed(pieces)) std::abort();
  return 0;
}
