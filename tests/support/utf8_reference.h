// An independent UTF-8 oracle for tests and fuzzers (no GoogleTest, no tokenizer code).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rf::test {

// well_formed_reference(s): s with each maximal subpart of an ill-formed sequence replaced by U+FFFD
// (the practice Unicode recommends in section 3.9), written from the definition rather than with
// tok::check_utf8: a sequence is well-formed if it is the shortest encoding of a scalar value, and a
// maximal subpart is the longest prefix of a well-formed sequence (or one byte). Only the first two
// bytes of a sequence constrain the rest, so trying every next byte with plain continuations after it
// decides whether a prefix can grow.
inline int64_t utf8_scalar(const unsigned char* p, size_t n) {
  static constexpr unsigned kPayload[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  static constexpr unsigned kTag[5] = {0, 0x00, 0xC0, 0xE0, 0xF0};
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if ((p[0] & ~kPayload[n] & 0xFFu) != kTag[n]) return -1;
  uint32_t cp = p[0] & kPayload[n];
  for (size_t k = 1; k < n; ++k) {
    if ((p[k] & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (p[k] & 0x3Fu);
  }
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

inline bool utf8_prefix_grows(const unsigned char* p, size_t k) {
  for (size_t n = k + 1; n <= 4; ++n) {
    unsigned char buf[4] = {0x80, 0x80, 0x80, 0x80};
    for (size_t i = 0; i < k; ++i) buf[i] = p[i];
    for (unsigned b = 0x80; b <= 0xBF; ++b) {
      buf[k] = static_cast<unsigned char>(b);
      if (utf8_scalar(buf, n) >= 0) return true;
    }
  }
  return false;
}

inline std::string well_formed_reference(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t left = s.size() - i;
    size_t n = 1;
    while (n <= 4 && (n > left || utf8_scalar(p + i, n) < 0)) ++n;
    if (n <= 4) {
      out.append(s, i, n);
      i += n;
      continue;
    }
    size_t k = 1;
    for (size_t m = 1; m < 4 && m <= left; ++m) {
      if (utf8_prefix_grows(p + i, m)) k = m;
    }
    out += "\xEF\xBF\xBD";
    i += k;
  }
  return out;
}

}  // namespace rf::test
