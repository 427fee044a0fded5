// Byte-level BPE tokenization (llama.cpp "gpt2" vocabularies): pre-tokenize, map bytes to GPT-2's
// alphabet, merge by rank within each word.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/char_pairs.h"
#include "tokenizer/vocab.h"

namespace rf::tok {

// Appends the tokens of `text`. Within each pre-tokenized word the adjacent pair with the lowest
// merge rank is merged first (leftmost on ties), until no pair has a merge; a final symbol that is
// not a token is spelled as single-byte tokens where they exist, as llama.cpp does. `pairs` holds the
// character pairs inside tokens and merge results; words are merged in chunks cut between other pairs.
void bpe_tokenize(const Vocab& vocab, const CharPairs& pairs, std::string_view text, std::vector<int32_t>& out);

}  // namespace rf::tok
