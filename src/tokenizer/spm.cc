// SPM bigram merging, as llama.cpp's llm_tokenizer_spm_session.
#include "tokenizer/spm.h"

#include <algorithm>
#include <queue>

#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  size_t offset;
  size_t n;  // bytes; 0 once merged into the symbol on its left
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  size_t size;  // bytes of left + right when queued; a mismatch later means the pair is stale
};

// Highest score first, then leftmost.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, offset + n == text.size() ? -1 : index + 1, offset, n});
    offset += n;
  }
  if (symbols.empty()) return;

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const size_t size = symbols[left].n + symbols[right].n;
    const int32_t id = vocab.find(text.substr(symbols[left].offset, size));
    if (id != kNoToken) queue.push({left, right, vocab.scores[id], size});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  // Every merged symbol is a token (only token-forming pairs are queued), so llama.cpp's resegment
  // step reduces to: a token, or the symbol's bytes.
  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].offset, symbols[i].n);
    if (const int32_t id = vocab.find(piece); id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (const char c : piece) {
      const int32_t id = vocab.byte_ids[static_cast<uint8_t>(c)];
      if (id != kNoToken) {
        out.push_back(id);
      } else if (vocab.unk_id != kNoToken) {
        out.push_back(vocab.unk_id);
      }
    }
  }
}

}  // namespace rf::tok
