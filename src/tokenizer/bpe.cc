// BPE merging over interned symbols, as llama.cpp's llm_tokenizer_bpe_session.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <string>

#include "base/check.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t offset;
  uint32_t n;  // bytes; 0 once merged into the symbol on its left
  int32_t id;  // interned symbol id (see BpeMerges), -1 if the text appears in no token or merge
};

struct Bigram {
  int32_t left;
  int32_t right;
  int32_t rank;
  uint32_t size;  // bytes of left + right when queued; a mismatch later means the pair is stale
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

// Longest chunk merged at once; only a word of gigabytes is cut without a reason.
constexpr size_t kMaxChunk = size_t{1} << 31;

// Scratch space reused across words and chunks.
struct Scratch {
  std::vector<Symbol> symbols;
  std::vector<Bigram> queue;
  std::string encoded;
};

// Merges one chunk of a byte-encoded word and appends its tokens.
// Offsets are 32-bit: the caller keeps chunks under 4 GiB.
void merge_chunk(const Vocab& vocab, std::string_view word, Scratch& s, std::vector<int32_t>& out) {
  std::vector<Symbol>& symbols = s.symbols;
  symbols.clear();
  for (size_t offset = 0; offset < word.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(word[offset])), word.size() - offset);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, offset + n == word.size() ? -1 : index + 1, static_cast<uint32_t>(offset),
                       static_cast<uint32_t>(n), symbol_id(vocab, word.substr(offset, n))});
    offset += n;
  }

  std::vector<Bigram>& queue = s.queue;
  queue.clear();
  const BigramOrder order;
  auto find_merge = [&](int32_t left, int32_t right) -> const BpeMerges::Merge* {
    const auto it = vocab.merges.by_pair.find(BpeMerges::key(symbols[left].id, symbols[right].id));
    return it == vocab.merges.by_pair.end() ? nullptr : &it->second;
  };
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0 || symbols[left].id < 0 || symbols[right].id < 0) return;
    if (const BpeMerges::Merge* m = find_merge(left, right)) {
      queue.push_back({left, right, m->rank, symbols[left].n + symbols[right].n});
      std::push_heap(queue.begin(), queue.end(), order);
    }
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), order);
    const Bigram b = queue.back();
    queue.pop_back();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    const BpeMerges::Merge* merge = find_merge(b.left, b.right);  // ids are unchanged while sizes are
    RF_CHECK(merge != nullptr);
    left.id = merge->result;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& sym = symbols[i];
    if (vocab.valid_id(sym.id)) {
      out.push_back(sym.id);
      continue;
    }
    for (const char c : word.substr(sym.offset, sym.n)) {
      if (const int32_t id = vocab.find(std::string_view(&c, 1)); id != kNoToken) out.push_back(id);
    }
  }
}

// Merges one byte-encoded word, chunk by chunk.
void merge_word(const Vocab& vocab, const CharPairs& pairs, std::string_view word, Scratch& s,
                std::vector<int32_t>& out) {
  size_t chunk = 0;
  std::string_view prev;
  for (size_t offset = 0; offset < word.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(word[offset])), word.size() - offset);
    const std::string_view cur = word.substr(offset, n);
    if (!prev.empty() && (!pairs.joinable(prev, cur) || offset - chunk >= kMaxChunk)) {
      merge_chunk(vocab, word.substr(chunk, offset - chunk), s, out);
      chunk = offset;
    }
    prev = cur;
    offset += n;
  }
  if (chunk < word.size()) merge_chunk(vocab, word.substr(chunk), s, out);
}

}  // namespace

void bpe_tokenize(const Vocab& vocab, const CharPairs& pairs, std::string_view text, std::vector<int32_t>& out) {
  Scratch s;
  for (const std::string& word : pre_tokenize(vocab.pre, text)) {
    s.encoded.clear();
    for (const char c : word) s.encoded += byte_to_symbol(static_cast<uint8_t>(c));
    if (vocab.ignore_merges) {
      if (const int32_t id = vocab.find(s.encoded); id != kNoToken) {
        out.push_back(id);
        continue;
      }
    }
    merge_word(vocab, pairs, s.encoded, s, out);
  }
}

}  // namespace rf::tok
