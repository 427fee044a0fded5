// BPE merging over interned symbols, as llama.cpp's llm_tokenizer_bpe_session.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <queue>
#include <string>

#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  size_t offset;
  size_t n;    // bytes; 0 once merged into the symbol on its left
  int32_t id;  // interned symbol id (see BpeMerges), -1 if the text appears in no token or merge
};

struct Bigram {
  int32_t left;
  int32_t right;
  int32_t rank;
  int32_t result;
  size_t size;  // bytes of left + right when queued; a mismatch later means the pair is stale
};

// Lowest rank first, then leftmost.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

int32_t symbol_id(const Vocab& vocab, std::string_view text) {
  if (const int32_t id = vocab.find(text); id != kNoToken) return id;
  const auto it = vocab.merges.extra_symbols.find(text);
  return it == vocab.merges.extra_symbols.end() ? -1 : it->second;
}

// Merges one byte-encoded word and appends its tokens.
void merge_word(const Vocab& vocab, std::string_view word, std::vector<Symbol>& symbols, std::vector<int32_t>& out) {
  symbols.clear();
  for (size_t offset = 0; offset < word.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(word[offset])), word.size() - offset);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, offset + n == word.size() ? -1 : index + 1, offset, n,
                       symbol_id(vocab, word.substr(offset, n))});
    offset += n;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0 || symbols[left].id < 0 || symbols[right].id < 0) return;
    const auto it = vocab.merges.by_pair.find(BpeMerges::key(symbols[left].id, symbols[right].id));
    if (it == vocab.merges.by_pair.end()) return;
    queue.push({left, right, it->second.rank, it->second.result, symbols[left].n + symbols[right].n});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    left.id = b.result;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    if (vocab.valid_id(s.id)) {
      out.push_back(s.id);
      continue;
    }
    for (const char c : word.substr(s.offset, s.n)) {
      if (const int32_t id = vocab.find(std::string_view(&c, 1)); id != kNoToken) out.push_back(id);
    }
  }
}

}  // namespace

void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  std::vector<Symbol> symbols;
  std::string encoded;
  for (const std::string& word : pre_tokenize(vocab.pre, text)) {
    encoded.clear();
    for (const char c : word) encoded += byte_to_symbol(static_cast<uint8_t>(c));
    if (vocab.ignore_merges) {
      if (const int32_t id = vocab.find(encoded); id != kNoToken) {
        out.push_back(id);
        continue;
      }
    }
    merge_word(vocab, encoded, symbols, out);
  }
}

}  // namespace rf::tok
