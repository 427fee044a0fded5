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

std::vector<int32_t> SpecialMatcher::occurring(std::string_view text) const {
  std::vector<int32_t> ids;
  for (size_t start = 0; start < text.size(); ++start) {
    int32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      node = child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) break;
      if (nodes_[node].token != kNoToken) ids.push_back(nodes_[node].token);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<Fragment> SpecialMatcher::partition(const Vocab& vocab, std::string_view text, bool parse_special) const {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});
  const std::vector<int32_t> present = occurring(text);
  if (present.empty()) return fragments;

  std::vector<Fragment> next;
  for (const int32_t id : vocab.special_ids) {
    const uint16_t attr = vocab.attrs[id];
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    if (!std::binary_search(present.begin(), present.end(), id)) continue;
    const std::string_view token = vocab.tokens[id];
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t base = f.offset, length = f.length;
      while (length > 0) {
        const size_t match = text.substr(0, base + length).find(token, base);
        if (match == std::string_view::npos) {
          next.push_back({kNoToken, base, length});
          break;
        }
        size_t left = match - base;
        if (attr & kAttrLstrip) {
          while (left > 0 && c_space(text[base + left - 1])) --left;
        }
        if (left > 0) next.push_back({kNoToken, base, left});
        next.push_back({id, match, token.size()});
        size_t right = base + length - (match + token.size());
        base = match + token.size();
        if (attr & kAttrRstrip) {
          while (right > 0 && c_space(text[base])) ++base, --right;
        }
        length = right;
      }
    }
    std::swap(fragments, next);
  }
  return fragments;
}

}  // namespace rf::tok
