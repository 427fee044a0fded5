// Special-token splitting: finds control / user-defined / unknown token texts in raw input the way
// llama.cpp's tokenizer_st_partition does, leaving the text between them for the tokenizer.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace rf::tok {

// A piece of the input: a special token, or (token == kNoToken) the raw text [offset, offset + length).
struct Fragment {
  int32_t token;
  size_t offset;
  size_t length;
};

class SpecialMatcher {
 public:
  explicit SpecialMatcher(const Vocab& vocab);

  // Splits text into fragments. Longer special tokens are matched first, each at its leftmost
  // non-overlapping occurrences in the remaining raw text. Without parse_special only user-defined
  // tokens that are not also control tokens are matched (llama.cpp matches added tokens regardless).
  std::vector<Fragment> partition(const Vocab& vocab, std::string_view text, bool parse_special) const;

 private:
  // A byte trie of the special tokens' texts, to find which of them occur in a text in one pass.
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node
    int32_t token = kNoToken;
  };
  struct Occurrence {
    int32_t token;
    size_t offset;
  };
  int32_t child(int32_t node, uint8_t byte) const;
  // Every (possibly overlapping) occurrence of every special token, sorted by token, then offset.
  std::vector<Occurrence> occurrences(std::string_view text) const;

  std::vector<Node> nodes_;
};

}  // namespace rf::tok
