// The chat layer's StopMatcher as the server uses it: text arriving in whole-character pieces (from a
// StreamDecoder) against the plain reference (cut the whole text at the earliest stop occurrence),
// with stops that straddle pieces and share prefixes; released text must stay whole characters.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/stop_strings.h"
#include "support/utf8_reference.h"

namespace rf {
namespace {

// The whole text cut before the earliest occurrence of any non-empty stop string.
std::string reference_cut(const std::string& text, const std::vector<std::string>& stops, bool* stopped) {
  size_t cut = std::string::npos;
  for (const std::string& s : stops) {
    if (!s.empty()) cut = std::min(cut, text.find(s));
  }
  *stopped = cut != std::string::npos;
  return text.substr(0, cut == std::string::npos ? text.size() : cut);
}

// Random text over a small alphabet of whole UTF-8 characters (so stops occur often), as pieces
// of 1..4 characters: the shape StreamDecoder hands out.
std::vector<std::string> random_pieces(std::mt19937& rng, const std::vector<std::string>& alphabet, int n_chars) {
  std::vector<std::string> pieces;
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> len(1, 4);
  for (int i = 0; i < n_chars;) {
    std::string piece;
    for (int k = len(rng); k > 0 && i < n_chars; --k, ++i) piece += alphabet[pick(rng)];
    pieces.push_back(piece);
  }
  return pieces;
}

void check_against_reference(const std::vector<std::string>& pieces, const std::vector<std::string>& stops) {
  std::string whole;
  for (const std::string& p : pieces) whole += p;
  bool ref_stopped = false;
  const std::string expected = reference_cut(whole, stops, &ref_stopped);

  StopMatcher m(stops);
  std::string out;
  for (const std::string& p : pieces) {
    out += m.push(p);
    // Released text is never taken back, and is whole characters.
    ASSERT_EQ(expected.compare(0, out.size(), out), 0) << "released text diverged: " << out;
    ASSERT_EQ(test::well_formed_reference(out), out);
    if (m.stopped()) break;
  }
  out += m.flush();
  EXPECT_EQ(m.stopped(), ref_stopped);
  EXPECT_EQ(out, expected);
}

TEST(ServerStopMatcher, MatchesReferenceOnRandomAsciiSplits) {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a", "b", "c", " ", "\n"};
  const std::vector<std::vector<std::string>> stop_sets = {
      {"abc"}, {"ab", "abc"}, {"aab", "b c"}, {"\n\n", "cab", "aaaa"}, {"c", "", "bbb", "ab\n"}, {"zzz"}, {}};
  for (int trial = 0; trial < 400; ++trial) {
    const auto& stops = stop_sets[static_cast<size_t>(trial) % stop_sets.size()];
    check_against_reference(random_pieces(rng, alphabet, 1 + trial % 37), stops);
  }
}

TEST(ServerStopMatcher, MatchesReferenceOnMultibyteText) {
  std::mt19937 rng(11);
  // 1-, 2-, 3- and 4-byte characters; stops that begin and end inside pieces.
  const std::vector<std::string> alphabet = {"x", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", " "};
  const std::vector<std::vector<std::string>> stop_sets = {
      {"\xE2\x82\xAC\xF0\x9F\x98\x80"}, {"x\xC3\xA9x", " \xE2\x82\xAC"}, {"\xF0\x9F\x98\x80\xF0\x9F\x98\x80"}};
  for (int trial = 0; trial < 300; ++trial) {
    check_against_reference(random_pieces(rng, alphabet, 1 + trial % 29), stop_sets[static_cast<size_t>(trial) % 3]);
  }
}

TEST(ServerStopMatcher, StopSplitAcrossManyPieces) {
  StopMatcher m({"###"});
  std::string out;
  for (const char* piece : {"one", "#", "#", "x", "#", "#", "#", "tail"}) out += m.push(piece);
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(out, "one##x");
}

TEST(ServerStopMatcher, FlushReleasesAPartialPrefixAtTheEnd) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("the end ST"), "the end ");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.flush(), "ST");
}

}  // namespace
}  // namespace rf
