// CharPairs: adjacent-character pairs of the vocabulary's strings.
#include "tokenizer/char_pairs.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace rf::tok {

uint64_t CharPairs::pack(std::string_view c) {
  uint64_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | (i < c.size() ? static_cast<uint8_t>(c[i]) : 0u);
  return v;
}

void CharPairs::add(std::string_view s) {
  std::string_view prev;
  for (size_t offset = 0; offset < s.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(s[offset])), s.size() - offset);
    const std::string_view cur = s.substr(offset, n);
    if (!prev.empty()) pairs_.insert(key(prev, cur));
    prev = cur;
    offset += n;
  }
}

}  // namespace rf::tok
