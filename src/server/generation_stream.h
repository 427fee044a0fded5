// GenerationStream: one request's generated tokens turned into releasable text, handed from the
// engine thread (callbacks) to the HTTP thread (take()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chat/stop_strings.h"
#include "runtime/engine.h"
#include "tokenizer/tokenizer.h"

namespace rf::server {

// One alternative of a token's log-probability, rendered for the client.
struct LogprobItem {
  std::string token;  // the token's bytes (may be part of a UTF-8 character)
  float logprob = 0;
};

// One generated token's log-probability and the best alternatives, best first.
struct TokenLogprobs {
  LogprobItem chosen;
  std::vector<LogprobItem> top;
};

// What the HTTP side takes: text released since the last take, the log-probabilities of the
// tokens consumed since then (when asked for), and the result once the request has ended.
struct StreamDelta {
  std::string text;
  std::vector<TokenLogprobs> logprobs;
  std::optional<GenerationResult> result;  // set once, with the text that ends the output
};

class GenerationStream {
 public:
  // strip_leading_space: the output starts a text (chat) rather than continuing a prompt.
  GenerationStream(const Tokenizer& tokenizer, std::vector<std::string> stops, bool strip_leading_space,
                   bool want_logprobs);

  // Engine thread. Returns false to end the request: an end-of-generation token (not shown) or a
  // stop string (cut off).
  bool on_token(const GeneratedToken& token);
  // Engine thread, once: releases the held-back text unless a stop string ended the output.
  void on_done(const GenerationResult& result);

  // HTTP thread: waits up to `timeout` for text or the end and takes what there is (possibly
  // nothing). After the delta carrying the result, further takes return empty deltas at once.
  StreamDelta take(std::chrono::milliseconds timeout);
  bool finished() const;

 private:
  const Tokenizer& tokenizer_;
  StreamDecoder decoder_;  // engine thread only
  StopMatcher matcher_;    // engine thread only
  bool want_logprobs_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  StreamDelta pending_;  // guarded by mutex_
  bool done_ = false;    // guarded: the result was produced (maybe already taken)
};

}  // namespace rf::server
