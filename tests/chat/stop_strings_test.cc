// StopMatcher: streamed text cut at the first stop string, however the text is split into pieces.
#include <gtest/gtest.h>

#include <random>

#include "chat/stop_strings.h"

namespace rf {
namespace {

// Feeds `text` in random pieces; returns everything shown (plus the flushed tail if no stop came).
std::string stream(StopMatcher& m, const std::string& text, std::mt19937& rng) {
  std::string shown;
  size_t pos = 0;
  while (pos < text.size() && !m.stopped()) {
    const size_t n = std::min(text.size() - pos, static_cast<size_t>(1 + rng() % 5));
    shown += m.push(std::string_view(text).substr(pos, n));
    pos += n;
  }
  if (!m.stopped()) shown += m.flush();
  return shown;
}

TEST(StopMatcher, RandomTextsAndSplitsMatchAPlainSearch) {
  const std::vector<std::string> stops = {"<|im_end|>", "</s>", "<|end|>"};
  const char* alphabet[] = {"a", " ", "<", "|", "e", "n", "d", ">", "/", "s", "\xC3\xA9", "im_"};
  std::mt19937 rng(9);
  int stopped = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    for (auto n = rng() % 40; n > 0; --n) {
      text += rng() % 10 == 0 ? stops[rng() % stops.size()] : alphabet[rng() % std::size(alphabet)];
    }
    // Reference: cut at the earliest occurrence of any stop string.
    size_t cut = std::string::npos;
    for (const std::string& s : stops) cut = std::min(cut, text.find(s));
    StopMatcher m(stops);
    EXPECT_EQ(stream(m, text, rng), text.substr(0, cut)) << text;
    EXPECT_EQ(m.stopped(), cut != std::string::npos) << text;
    stopped += m.stopped();
  }
  EXPECT_GT(stopped, 100);
  EXPECT_LT(stopped, 1900);
}

TEST(StopMatcher, HoldsBackOnlyWhatMayBecomeAStop) {
  StopMatcher m({"<|im_end|>"});
  EXPECT_EQ(m.push("Hello <|im"), "Hello ");
  EXPECT_EQ(m.push("_x"), "<|im_x");  // not a stop after all: released
  EXPECT_EQ(m.push(" done<"), " done");
  EXPECT_EQ(m.push("|im_end|> ignored"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more"), "");
  m.reset();
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push("tail <|"), "tail ");
  EXPECT_EQ(m.flush(), "<|");
}

TEST(StopMatcher, EmptyStopsAreIgnored) {
  StopMatcher m({"", "x"});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.push("dxe"), "d");
  EXPECT_TRUE(m.stopped());
}

}  // namespace
}  // namespace rf
