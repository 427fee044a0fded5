// SpecialMatcher: the trie scan and llama.cpp's longest-token-first fragment splitting.
#include "tokenizer/special.h"

#include <algorithm>

namespace rf::tok {
namespace {

// isspace() in the C locale, which llama.cpp's lstrip/rstrip use.
bool c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace

SpecialMatcher::SpecialMatcher(const Vocab& vocab) : nodes_(1) {
  for (const int32_t id : vocab.special_ids) {
    int32_t node = 0;
    for (const char c : vocab.tokens[id]) {
      const auto byte = static_cast<uint8_t>(c);
      int32_t next = child(node, byte);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_[node].children.emplace_back(byte, next);
        nodes_.emplace_back();
      }
      node = next;
    }
    nodes_[node].token = id;  // token texts are unique, so one id per node
  }
}

int32_t SpecialMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, next] : nodes_[node].children) {
    if (b == byte) return next;
  }
  return -1;
}

std::vector<SpecialMatcher::Occurrence> SpecialMatcher::occurrences(std::string_view text) const {
  std::vector<Occurrence> found;
  for (size_t start = 0; start < text.size(); ++start) {
    int32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      node = child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) break;
      if (nodes_[node].token != kNoToken) found.push_back({nodes_[node].token, start});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Occurrence& a, const Occurrence& b) { return a.token < b.token; });
  return found;
}

std::vector<Fragment> SpecialMatcher::partition(const Vocab& vocab, std::string_view text, bool parse_special) const {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});
  const std::vector<Occurrence> found = occurrences(text);
  if (found.empty()) return fragments;

  std::vector<Fragment> next;
  for (const int32_t id : vocab.special_ids) {
    const uint16_t attr = vocab.attrs[id];
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    // This token's occurrences, in text order.
    auto first = std::lower_bound(found.begin(), found.end(), id,
                                  [](const Occurrence& o, int32_t token) { return o.token < token; });
    auto last = first;
    while (last != found.end() && last->token == id) ++last;
    if (first == last) continue;

    const size_t size = vocab.tokens[id].size();
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      // The leftmost occurrences that fit in what remains of the fragment, one after another.
      size_t base = f.offset, length = f.length;
      while (first != last && first->offset < base) ++first;
      for (; length > 0 && first != last && first->offset + size <= base + length; ++first) {
        if (first->offset < base) continue;  // overlaps the previous match
        const size_t match = first->offset;
        size_t left = match - base;
        if (attr & kAttrLstrip) {
          while (left > 0 && c_space(text[base + left - 1])) --left;
        }
        if (left > 0) next.push_back({kNoToken, base, left});
        next.push_back({id, match, size});
        size_t right = base + length - (match + size);
        base = match + size;
        if (attr & kAttrRstrip) {
          while (right > 0 && c_space(text[base])) ++base, --right;
        }
        length = right;
      }
      if (length > 0) next.push_back({kNoToken, base, length});
    }
    std::swap(fragments, next);
  }
  return fragments;
}

}  // namespace rf::tok
