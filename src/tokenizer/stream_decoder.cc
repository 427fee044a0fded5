// StreamDecoder: emits whole UTF-8 characters as generated tokens arrive.
#include <string_view>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rf {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool render_special, bool strip_leading_space)
    : tokenizer_(&tokenizer), render_special_(render_special), strip_leading_space_(strip_leading_space) {}

std::string StreamDecoder::push(int32_t id) {
  std::string piece = tokenizer_->token_to_piece(id, render_special_);
  // decode()'s rule, decided by position and BOS id alone so that rendering specials only adds text.
  if (strip_pending_ && !(first_id_ && id == tokenizer_->bos_id())) {
    strip_pending_ = false;
    if (strip_leading_space_ && tokenizer_->adds_space_prefix() && !piece.empty() && piece[0] == ' ') {
      piece.erase(0, 1);
    }
  }
  first_id_ = false;
  if (piece.empty()) return {};
  pending_ += piece;

  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    size_t length = 0;
    const tok::Utf8Check check = tok::check_utf8(pending_, pos, &length);
    if (check == tok::Utf8Check::kIncomplete) break;  // a later token may complete it
    if (check == tok::Utf8Check::kValid) {
      out.append(pending_, pos, length);
    } else {
      out += kReplacement;
    }
    pos += length;
  }
  pending_.erase(0, pos);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = pending_.empty() ? std::string() : std::string(kReplacement);
  pending_.clear();
  first_id_ = true;
  strip_pending_ = true;
  return out;
}

}  // namespace rf
