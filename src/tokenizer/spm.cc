// SPM bigram merging, as llama.cpp's llm_tokenizer_spm_session.
#include "tokenizer/spm.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t offset;
  uint32_t n;  // bytes; 0 once merged into the symbol on its left
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  uint32_t size;  // bytes of left + right when queued; a mismatch later means the pair is stale
};

// Longest chunk merged at once; only a text of gigabytes is cut without a reason.
constexpr size_t kMaxChunk = size_t{1} << 31;

// Highest score first, then leftmost.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// Merges one chunk of text (under 4 GiB: offsets are 32-bit). `symbols` and `queue` are scratch space reused across chunks.
void merge_chunk(const Vocab& vocab, std::string_view text, std::vector<Symbol>& symbols, std::vector<Bigram>& queue,
                 std::vector<int32_t>& out) {
  symbols.clear();
  for (size_t offset = 0; offset < text.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, offset + n == text.size() ? -1 : index + 1, static_cast<uint32_t>(offset),
                       static_cast<uint32_t>(n)});
    offset += n;
  }

  queue.clear();
  const BigramOrder order;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t size = symbols[left].n + symbols[right].n;
    const int32_t id = vocab.find(text.substr(symbols[left].offset, size));
    if (id == kNoToken) return;
    queue.push_back({left, right, vocab.scores[id], size});
    std::push_heap(queue.begin(), queue.end(), order);
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), order);
    const Bigram b = queue.back();
    queue.pop_back();
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

}  // namespace

void spm_tokenize(const Vocab& vocab, const CharPairs& pairs, std::string_view text, std::vector<int32_t>& out) {
  std::vector<Symbol> symbols;
  std::vector<Bigram> queue;
  size_t chunk = 0;
  std::string_view prev;
  for (size_t offset = 0; offset < text.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const std::string_view cur = text.substr(offset, n);
    if (!prev.empty() && (!pairs.joinable(prev, cur) || offset - chunk >= kMaxChunk)) {
      merge_chunk(vocab, text.substr(chunk, offset - chunk), symbols, queue, out);
      chunk = offset;
    }
    prev = cur;
    offset += n;
  }
  if (chunk < text.size()) merge_chunk(vocab, text.substr(chunk), symbols, queue, out);
}

}  // namespace rf::tok
