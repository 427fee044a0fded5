// SentencePiece-style tokenization (llama.cpp "llama" vocabularies): score-ordered bigram merging.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/char_pairs.h"
#include "tokenizer/vocab.h"

namespace rf::tok {

// Appends the tokens of `text`, whose spaces the caller has already replaced by U+2581. Starts from
// UTF-8 characters (a malformed lead byte still claims its announced length, clipped at the end),
// repeatedly merges the adjacent pair whose concatenation is the highest-scoring token (leftmost on
// ties), and spells any piece that is not a token as byte tokens <0xXX> (or the unknown token).
// `pairs` holds the character pairs inside the vocabulary's tokens; the text is merged in independent
// chunks cut between all other pairs.
void spm_tokenize(const Vocab& vocab, const CharPairs& pairs, std::string_view text, std::vector<int32_t>& out);

}  // namespace rf::tok
