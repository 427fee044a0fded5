// CharPairs: which adjacent character pairs occur inside some token or merge result. The SPM and BPE
// merge loops only ever join two characters that some such string holds side by side, so input can be
// cut between any other pair and each piece merged alone, with the same result and a small queue.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>

namespace rf::tok {

class CharPairs {
 public:
  // Adds every pair of neighbouring characters of s (split like the merge loops split text:
  // utf8_lead_length per lead byte, clipped at the end).
  void add(std::string_view s);
  // Whether character a directly followed by character b occurs in some added string.
  bool joinable(std::string_view a, std::string_view b) const { return pairs_.count(key(a, b)) != 0; }

 private:
  // Packs each character's (at most 4) bytes; distinct pairs may share a key only when a character was
  // clipped, which can only make joinable() answer true more often: cuts stay safe.
  static uint64_t pack(std::string_view c);
  static uint64_t key(std::string_view a, std::string_view b) { return (pack(a) << 32) | pack(b); }

  std::unordered_set<uint64_t> pairs_;
};

}  // namespace rf::tok
