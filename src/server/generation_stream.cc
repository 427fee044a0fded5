// GenerationStream: detokenize, match stop strings, and hand text across threads.
#include "server/generation_stream.h"

#include <utility>

namespace rf::server {

GenerationStream::GenerationStream(const Tokenizer& tokenizer, std::vector<std::string> stops,
                                   bool strip_leading_space, bool want_logprobs)
    : tokenizer_(tokenizer),
      decoder_(tokenizer, false, strip_leading_space),
      matcher_(std::move(stops)),
      want_logprobs_(want_logprobs) {}

bool GenerationStream::on_token(const GeneratedToken& token) {
  if (matcher_.stopped()) return false;
  if (tokenizer_.is_end_of_generation(token.token)) return false;
  const std::string text = matcher_.push(decoder_.push(token.token));
  TokenLogprobs lp;
  if (want_logprobs_) {
    lp.chosen = {tokenizer_.token_to_piece(token.token, true), token.logprob};
    for (const TokenLogprob& alt : token.top) lp.top.push_back({tokenizer_.token_to_piece(alt.token, true), alt.logprob});
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.text += text;
    if (want_logprobs_) pending_.logprobs.push_back(std::move(lp));
  }
  if (!text.empty()) ready_.notify_all();
  return !matcher_.stopped();
}

void GenerationStream::on_done(const GenerationResult& result) {
  // Bytes the decoder still holds never completed a character (they come out as U+FFFD).
  const std::string tail = matcher_.stopped() ? std::string() : matcher_.push(decoder_.flush()) + matcher_.flush();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.text += tail;
    pending_.result = result;
    done_ = true;
  }
  ready_.notify_all();
}

StreamDelta GenerationStream::take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return !pending_.text.empty() || done_; });
  return std::exchange(pending_, StreamDelta{});
}

bool GenerationStream::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

}  // namespace rf::server
