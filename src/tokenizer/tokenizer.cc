// Tokenizer: special-token splitting, dispatch to SPM/BPE, token pieces and decoding.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/bpe.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"

namespace rf {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos).append(to);
  }
  out.append(s, pos);
  s = std::move(out);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A byte token "<0xXX>" -> its byte; anything else -> "".
std::string byte_token_piece(const std::string& text) {
  if (text.size() < 5) return {};
  const int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
  if (hi < 0 || lo < 0) return {};
  return std::string(1, static_cast<char>(hi * 16 + lo));
}

// GPT-2 symbols -> bytes; a code point outside the alphabet is spelled out as llama.cpp does.
std::string bpe_normal_piece(const std::string& text) {
  std::string out;
  for (const uint32_t cp : tok::decode_utf8(text)) {
    const int byte = tok::symbol_to_byte(cp);
    if (byte >= 0) {
      out += static_cast<char>(byte);
      continue;
    }
    std::string utf8;
    tok::append_utf8(utf8, cp);
    out += "[UNK_BYTE_0x";
    for (const char c : utf8) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(c));
      out += hex;
    }
    out += text + "]";
  }
  return out;
}

// llama.cpp's token_to_piece(id, special = true).
std::string render_piece(const Vocab& v, int32_t id) {
  const uint16_t attr = v.attrs[id];
  const std::string& text = v.tokens[id];
  if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
  if (attr & kAttrNormal) {
    if (v.model == Vocab::Model::kBpe) return bpe_normal_piece(text);
    std::string piece = text;
    replace_all(piece, kSpmSpace, " ");
    return piece;
  }
  if (attr & kAttrByte) return byte_token_piece(text);
  return {};
}

Status check_vocab(const Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) return make_error("the vocabulary has no tokens");
  if (v.scores.size() != n || v.attrs.size() != n) {
    return make_error("vocabulary tables disagree: %zu tokens, %zu scores, %zu attributes", n, v.scores.size(),
                      v.attrs.size());
  }
  if (v.token_ids.size() != n) return make_error("the token map has %zu entries for %zu tokens", v.token_ids.size(), n);
  for (int32_t i = 0; i < v.n_tokens(); ++i) {
    if (v.tokens[i].empty()) return make_error("token %d has no text", i);
    if (v.find(v.tokens[i]) != i) return make_error("the token map does not map token %d to its id", i);
  }
  auto valid_or_none = [&](int32_t id) { return id == kNoToken || v.valid_id(id); };
  for (const int32_t id : {v.bos_id, v.eos_id, v.eot_id, v.eom_id, v.unk_id, v.pad_id}) {
    if (!valid_or_none(id)) return make_error("special token id %d is outside the vocabulary of %zu", id, n);
  }
  for (const std::vector<int32_t>* ids : {&v.eog_ids, &v.special_ids}) {
    for (const int32_t id : *ids) {
      if (!v.valid_id(id)) return make_error("token id %d is outside the vocabulary of %zu", id, n);
    }
  }
  for (const int32_t id : v.byte_ids) {
    if (!valid_or_none(id)) return make_error("byte token id %d is outside the vocabulary of %zu", id, n);
  }
  if (v.add_bos && v.bos_id == kNoToken) return make_error("the vocabulary adds a BOS token but has none");
  if (v.add_eos && v.eos_id == kNoToken) return make_error("the vocabulary adds an EOS token but has none");
  return {};
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)), special_(vocab_) {
  for (const std::string& t : vocab_.tokens) pairs_.add(t);
  for (const auto& [text, id] : vocab_.merges.extra_symbols) pairs_.add(text);
  pieces_.resize(vocab_.tokens.size());
  for (int32_t id = 0; id < vocab_.n_tokens(); ++id) pieces_[id] = render_piece(vocab_, id);
}

Result<Tokenizer> Tokenizer::from_gguf(const gguf::File& file) {
  auto vocab = load_vocab(file);
  if (!vocab.ok()) return vocab.error();
  return Tokenizer(std::move(vocab).value());
}

Result<Tokenizer> Tokenizer::from_vocab(Vocab vocab) {
  RF_RETURN_IF_ERROR(check_vocab(vocab));
  std::sort(vocab.eog_ids.begin(), vocab.eog_ids.end());
  vocab.eog_ids.erase(std::unique(vocab.eog_ids.begin(), vocab.eog_ids.end()), vocab.eog_ids.end());
  std::stable_sort(vocab.special_ids.begin(), vocab.special_ids.end(),
                   [&](int32_t a, int32_t b) { return vocab.tokens[a].size() > vocab.tokens[b].size(); });
  return Tokenizer(std::move(vocab));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.add_bos) out.push_back(vocab_.bos_id);
  bool after_special = true;  // SPM: a space prefix goes before the text and after special tokens
  std::string spm_text;
  for (const tok::Fragment& f : special_.partition(vocab_, text, parse_special)) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.offset, f.length);
    if (vocab_.model == Vocab::Model::kBpe) {
      tok::bpe_tokenize(vocab_, pairs_, raw, out);
      continue;
    }
    spm_text.clear();
    if (vocab_.add_space_prefix && after_special) spm_text += ' ';
    spm_text.append(raw);
    replace_all(spm_text, " ", kSpmSpace);
    tok::spm_tokenize(vocab_, pairs_, spm_text, out);
    after_special = false;
  }
  if (add_bos && vocab_.add_eos) out.push_back(vocab_.eos_id);
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  if (!vocab_.valid_id(id)) return {};
  if (!render_special && (vocab_.attrs[id] & (kAttrUnknown | kAttrControl))) return {};
  return pieces_[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  size_t i = 0;
  if (!ids.empty() && ids[0] == vocab_.bos_id) out += token_to_piece(ids[i++], render_special);
  if (i < ids.size()) {
    std::string first = token_to_piece(ids[i++], render_special);
    const bool strip = vocab_.add_space_prefix && !first.empty() && first[0] == ' ';
    out.append(first, strip ? 1 : 0);
  }
  for (; i < ids.size(); ++i) out += token_to_piece(ids[i], render_special);
  return out;
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(vocab_.eog_ids.begin(), vocab_.eog_ids.end(), id);
}

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string kEmpty;
  return vocab_.valid_id(id) ? vocab_.tokens[id] : kEmpty;
}

}  // namespace rf
