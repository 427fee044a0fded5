// Helpers shared by the tokenizer tests: loading the shared vocabularies and reading files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rf::test {

inline const std::string kShared = ROCMFORGE_SHARED_DIR;

inline std::string vocab_path(const std::string& name) {
  return kShared + "/models/vocab/ggml-vocab-" + name + ".gguf";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Tokenizer load_tokenizer(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file.ok()) ADD_FAILURE() << path << ": " << file.error().message;
  auto tok = Tokenizer::from_gguf(file.value());
  if (!tok.ok()) ADD_FAILURE() << path << ": " << tok.error().message;
  return std::move(tok).value();
}

inline Tokenizer load_vocab_tokenizer(const std::string& name) { return load_tokenizer(vocab_path(name)); }

// The llama.cpp tokenizer test strings: each is followed by "\n__ggml_vocab_test__\n".
inline std::vector<std::string> read_test_strings(const std::string& path) {
  const std::string text = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
    out.push_back(text.substr(pos, hit - pos));
  }
  return out;
}

inline std::vector<std::string> shared_test_strings() {
  return read_test_strings(kShared + "/reference/tokenizer/ggml-vocab-gpt-2.gguf.inp");
}

inline bool is_valid_utf8(const std::string& s) {
  for (size_t pos = 0; pos < s.size();) {
    size_t n = 0;
    if (tok::check_utf8(s, pos, &n) != tok::Utf8Check::kValid) return false;
    pos += n;
  }
  return true;
}

// well_formed_reference(s): s with each maximal subpart of an ill-formed sequence replaced by U+FFFD
// (the practice Unicode recommends in section 3.9), written from the definition rather than with
// tok::check_utf8: a sequence is well-formed if it is the shortest encoding of a scalar value, and a
// maximal subpart is the longest prefix of a well-formed sequence (or one byte). Only the first two
// bytes of a sequence constrain the rest, so trying every next byte with plain continuations after it
// decides whether a prefix can grow.
inline int64_t utf8_scalar(const unsigned char* p, size_t n) {
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

inline bool utf8_prefix_grows(const unsigned char* p, size_t k) {
  for (size_t n = k + 1; n <= 4; ++n) {
    unsigned char buf[4] = {0x80, 0x80, 0x80, 0x80};
    for (size_t i = 0; i < k; ++i) buf[i] = p[i];
    for (unsigned b = 0x80; b <= 0xBF; ++b) {
      buf[k] = static_cast<unsigned char>(b);
      if (utf8_scalar(buf, n) >= 0) return true;
    }
  }
  return false;
}

inline std::string well_formed_reference(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t left = s.size() - i;
    size_t n = 1;
    while (n <= 4 && (n > left || utf8_scalar(p + i, n) < 0)) ++n;
    if (n <= 4) {
      out.append(s, i, n);
      i += n;
      continue;
    }
    size_t k = 1;
    for (size_t m = 1; m < 4 && m <= left; ++m) {
      if (utf8_prefix_grows(p + i, m)) k = m;
    }
    out += "\xEF\xBF\xBD";
    i += k;
  }
  return out;
}

}  // namespace rf::test
