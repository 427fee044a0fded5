// Tokenizer: text <-> token ids for GGUF vocabularies (SentencePiece "llama" and byte-level BPE "gpt2"),
// matching llama.cpp's llama_tokenize / llama_token_to_piece. StreamDecoder: ids -> UTF-8 text during
// generation, one complete character at a time.
//
// No input makes these throw, crash or read out of bounds: invalid UTF-8 included, ids included.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gguf/gguf.h"
#include "tokenizer/char_pairs.h"
#include "tokenizer/special.h"
#include "tokenizer/vocab.h"

namespace rf {

class Tokenizer {
 public:
  static Result<Tokenizer> from_gguf(const gguf::File& file);
  // From a vocabulary assembled by hand; its tables must agree (sizes, ids, non-empty unique texts), or
  // this returns an error. eog_ids and special_ids need not be sorted.
  static Result<Tokenizer> from_vocab(Vocab vocab);

  // llama.cpp's tokenize(text, add_special = add_bos, parse_special):
  //  - add_bos: prepend BOS if the vocabulary adds one (tokenizer.ggml.add_bos_token; default true for
  //    SPM and the llama3 family), and append EOS if it adds one (tokenizer.ggml.add_eos_token).
  //  - parse_special: control-token texts in `text` (e.g. "<|im_start|>") become their ids. User-defined
  //    (added) tokens are matched even without it, as llama.cpp and Hugging Face do.
  //  - SPM: a space is prepended to the text and to the text after each special token (add_space_prefix).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // The bytes a token stands for (SPM: U+2581 -> ' ', <0xXX> -> that byte; BPE: GPT-2 symbols ->
  // bytes). Control and unknown tokens give "" unless render_special; out-of-range ids give "".
  std::string token_to_piece(int32_t id, bool render_special) const;

  // The concatenated pieces. For SPM vocabularies that add a space prefix, the piece of the first id
  // after an optional leading BOS loses one leading space (chosen by position, not as the first
  // non-empty piece, so rendering specials only adds text), so decode(encode(s, b, false)) == s for
  // valid UTF-8. (llama.cpp keeps that space when the ids start with BOS, and for some BPE vocabularies
  // also removes spaces before punctuation; this returns the exact bytes.) The bytes need not be valid
  // UTF-8: byte tokens spell any byte, and encode() reads surrogates leniently as llama.cpp does, so
  // BPE ids can spell one ("\xED\xB3\xB3" for U+DCF3).
  std::string decode(std::span<const int32_t> ids, bool render_special) const;

  int32_t n_vocab() const { return vocab_.n_tokens(); }
  int32_t bos_id() const { return vocab_.bos_id; }  // kNoToken (-1) if none
  int32_t eos_id() const { return vocab_.eos_id; }
  // EOS, EOT, EOM and the tokens llama.cpp treats as ending generation (<|im_end|>, <|eot_id|>,
  // <|endoftext|>, <end_of_turn>, ...).
  bool is_end_of_generation(int32_t id) const;
  bool adds_space_prefix() const { return vocab_.add_space_prefix; }
  // The token's text as stored in the vocabulary ("" for out-of-range ids).
  const std::string& token_text(int32_t id) const;
  const Vocab& vocab() const { return vocab_; }

 private:
  explicit Tokenizer(Vocab vocab);

  Vocab vocab_;
  tok::SpecialMatcher special_;
  tok::CharPairs pairs_;  // of tokens (and BPE merge symbols): where merging may join characters
  std::vector<std::string> pieces_;  // token_to_piece(id, true) for every id
};

// Incremental detokenizer for generated ids. push() returns the text that is complete so far: whole
// UTF-8 characters only. Bytes that may still be completed by later tokens are held back; each
// maximal ill-formed subpart (Unicode section 3.9, Table 3-7: no surrogates, overlong forms or code
// points above U+10FFFF) becomes one U+FFFD. So the output is always valid UTF-8, and for any ids
// push(a) + push(b) + ... + flush() is decode({a, b, ...}) with that replacement applied (without
// strip_leading_space: the concatenated pieces with it applied).
class StreamDecoder {
 public:
  // strip_leading_space: drop the leading space decode() drops (one, from the piece of the first id after
  // an optional leading BOS, when the vocabulary adds a space prefix), for output that starts a text
  // rather than continuing a prompt.
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false, bool strip_leading_space = false);

  std::string push(int32_t id);
  // Returns the held-back bytes (as U+FFFD: they never completed) and resets for a new stream.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  bool render_special_;
  bool strip_leading_space_;
  bool first_id_ = true;       // nothing pushed since construction or flush()
  bool strip_pending_ = true;  // the id whose piece decode() would strip has not come yet
  std::string pending_;  // an incomplete UTF-8 sequence (at most 3 bytes)
};

}  // namespace rf
