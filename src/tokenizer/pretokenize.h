// Pre-tokenizers: split text into the words BPE merges within, exactly as llama.cpp's regex chains do.
//
// Each kind is a sequence of steps; every step splits each piece of the previous step into matches and
// the gaps between them (regex_iterator semantics: leftmost match, ordered alternatives, greedy
// repeats), so pieces never merge. Hand-written matchers replace the regexes: no std::regex.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rf::tok {

enum class PreTokenizerKind {
  kDefault,        // llama.cpp's fallback chain for BPE vocabularies without a pre-tokenizer name
  kGpt2,           // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kLlama3,         // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|...
  kQwen2,          // llama3 with \p{N} instead of \p{N}{1,3}
  kDeepseekLlm,    // [\r\n], \s?[cased letters]+, \s?[ASCII/CJK punctuation]+, \s+$, [CJK]+, \p{N}+
  kDeepseekCoder,  // [\r\n], \s?\p{L}+, \s?\p{P}+, [CJK]+, \p{N}
  kFalcon,         // [\p{P}$+<=>^~|`]+, gpt2, [0-9][0-9][0-9]
  kStarcoder,      // \p{N}, gpt2
};

const char* pre_tokenizer_name(PreTokenizerKind kind);

// Splits text into words (UTF-8). Invalid UTF-8 is first decoded as llama.cpp does (each bad byte
// becomes U+FFFD), so the words are always valid UTF-8; their concatenation equals the text when it was.
std::vector<std::string> pre_tokenize(PreTokenizerKind kind, std::string_view text);

}  // namespace rf::tok
