// The hostile-GGUF corpus: each crafted file with the words its rejection message must contain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rf::gguf::corpus {

struct CorpusEntry {
  std::string name;                  // file name under tests/gguf/corpus/
  std::vector<uint8_t> bytes;
  std::vector<std::string> expect;   // words the error must contain; empty: the file is valid
};

// Every generated corpus file, deterministically (the committed files must equal these bytes).
std::vector<CorpusEntry> make_corpus();

}  // namespace rf::gguf::corpus
