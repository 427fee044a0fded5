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
#include "support/utf8_reference.h"

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

}  // namespace rf::test
