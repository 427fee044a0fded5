// Vocab: a tokenizer vocabulary read from GGUF metadata, with llama.cpp's defaults and fix-ups applied.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "gguf/gguf.h"
#include "tokenizer/pretokenize.h"

namespace rf {

inline constexpr int32_t kNoToken = -1;

// Token attributes, a bit set as in llama.cpp (the EOG/FIM detection adds kAttrControl to some tokens).
enum TokenAttr : uint16_t {
  kAttrUnknown = 1 << 0,
  kAttrUnused = 1 << 1,
  kAttrNormal = 1 << 2,
  kAttrControl = 1 << 3,
  kAttrUserDefined = 1 << 4,
  kAttrByte = 1 << 5,
  kAttrLstrip = 1 << 7,  // a matched special token swallows the whitespace before it
  kAttrRstrip = 1 << 8,  // ... after it
};

// Hash map from token text, searchable by string_view without building a std::string.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TextMap = std::unordered_map<std::string, int32_t, TextHash, std::equal_to<>>;

// BPE merges over interned symbols: a symbol id below n_tokens is that token; ids from n_tokens on name
// merge parts and results that are not tokens themselves.
struct BpeMerges {
  struct Merge {
    int32_t rank;    // line in tokenizer.ggml.merges; lower merges first
    int32_t result;  // symbol id of left + right
  };
  TextMap extra_symbols;                           // text -> id >= n_tokens
  std::unordered_map<uint64_t, Merge> by_pair;     // (left id << 32 | right id) -> merge

  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
};

struct Vocab {
  enum class Model { kSpm, kBpe };  // tokenizer.ggml.model "llama" / "gpt2"

  Model model = Model::kSpm;
  tok::PreTokenizerKind pre = tok::PreTokenizerKind::kDefault;  // BPE only
  std::string pre_name;  // tokenizer.ggml.pre as found ("" if absent)

  std::vector<std::string> tokens;
  std::vector<float> scores;    // SPM merge priorities (0 if the file has none)
  std::vector<uint16_t> attrs;  // TokenAttr bits
  TextMap token_ids;            // text -> id
  BpeMerges merges;             // BPE only

  int32_t bos_id = kNoToken;
  int32_t eos_id = kNoToken;
  int32_t eot_id = kNoToken;
  int32_t eom_id = kNoToken;
  int32_t unk_id = kNoToken;
  int32_t pad_id = kNoToken;

  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: a space before the text (and after each special token)
  bool ignore_merges = false;     // BPE: a word that is a token is taken whole (llama3 family)

  std::vector<int32_t> eog_ids;      // end-of-generation tokens, sorted
  std::vector<int32_t> special_ids;  // tokens matched in raw text (control, user-defined, unknown), longest first
  std::array<int32_t, 256> byte_ids{};  // SPM byte fallback: <0xXX> (or the 1-byte token), kNoToken if none

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  bool valid_id(int32_t id) const { return id >= 0 && id < n_tokens(); }
  // The token whose text is exactly `text`, or kNoToken.
  int32_t find(std::string_view text) const {
    const auto it = token_ids.find(text);
    return it == token_ids.end() ? kNoToken : it->second;
  }
};

// Reads tokenizer.ggml.* from a GGUF file. Errors name the key and what was wrong: a missing or
// non-string token list, per-token arrays of another length, an unsupported tokenizer model, missing
// merges, duplicate tokens, a BOS/EOS the vocabulary asks for but does not have.
Result<Vocab> load_vocab(const gguf::File& file);

}  // namespace rf
