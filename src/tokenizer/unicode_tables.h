// Declarations of the generated Unicode tables (unicode_tables.cc, written by tools/gen_unicode_tables.py).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rf::tok::tables {

struct LowercaseRun {
  uint32_t first;
  uint32_t last;
  int32_t delta;    // lowercase = code point + delta
  uint32_t stride;  // 1: every code point in [first, last]; 2: every other one
};

struct CodepointRange {
  uint32_t first;
  uint32_t last;  // inclusive
};

extern const uint32_t kCategoryRuns[];  // (start << 4) | rf::tok::Category, sorted by start
extern const size_t kCategoryRunCount;
extern const uint32_t kWhiteSpace[];  // sorted
extern const size_t kWhiteSpaceCount;
extern const LowercaseRun kLowercaseRuns[];  // sorted by first, disjoint
extern const size_t kLowercaseRunCount;
extern const CodepointRange kDeepseekLetters[];  // sorted, disjoint
extern const size_t kDeepseekLetterCount;

}  // namespace rf::tok::tables
