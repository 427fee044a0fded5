// Hostile input: random bytes (invalid UTF-8, special-token fragments) never crash or yield bad ids,
// and 1 MB of text tokenizes in well under a second.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "test_util.h"

namespace rf {
namespace {

std::string spm_normalized(std::string_view s) {
  const std::string_view kSpace = "\xE2\x96\x81";
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const bool space = s.substr(i, kSpace.size()) == kSpace;
    out += space ? ' ' : s[i];
    i += space ? kSpace.size() : 1;
  }
  return out;
}

bool bytes_have_tokens(const Tokenizer& tok, std::string_view s) {
  for (const char c : s) {
    if (tok.vocab().find(tok::byte_to_symbol(static_cast<uint8_t>(c))) == kNoToken) return false;
  }
  return true;
}

std::string lax_normalized(std::string_view s) {
  std::string out;
  for (const uint32_t cp : tok::decode_utf8(s)) tok::append_utf8(out, cp);
  return out;
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(123);
  const std::string fragments[] = {"<|im_start|>", "<s>", "</s>", "<|endoftext|>", "\xE2\x96\x81", "  ", "<tool_call>",
                                   "ü", "'s", "\r\n", "\xF0\x9F", "\xC3"};
  for (const char* name : {"llama-spm", "gpt-2", "qwen2", "deepseek-llm", "deepseek-coder", "falcon", "mpt", "phi-3"}) {
    const Tokenizer tok = test::load_vocab_tokenizer(name);
    for (int i = 0; i < 150; ++i) {
      std::string s;
      const int n = static_cast<int>(rng() % 64);
      for (int k = 0; k < n; ++k) {
        if (rng() % 5 == 0) {
          s += fragments[rng() % std::size(fragments)];
        } else {
          s += static_cast<char>(rng() & 0xFF);
        }
      }
      for (const bool special : {false, true}) {
        const std::vector<int32_t> ids = tok.encode(s, true, special);
        for (const int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok.n_vocab()) << name;
        StreamDecoder dec(tok, special);
        std::string streamed;
        for (const int32_t id : ids) streamed += dec.push(id);
        streamed += dec.flush();
        EXPECT_TRUE(test::is_valid_utf8(streamed)) << name;
      }
      // Lossless up to normalization: SPM keeps every byte (byte tokens) but a U+2581 in the text may
      // come back as the space it stands for; byte-level BPE sees what llama.cpp's decoding made of the
      // text (each invalid byte is U+FFFD), and drops bytes that have no token, as llama.cpp does
      // (falcon has none for some control characters).
      const std::string back = tok.decode(tok.encode(s, false, false), true);
      if (tok.vocab().model == Vocab::Model::kSpm) {
        EXPECT_EQ(spm_normalized(back), spm_normalized(s)) << name;
      } else if (const std::string norm = lax_normalized(s); bytes_have_tokens(tok, norm)) {
        EXPECT_EQ(back, norm) << name;
      } else {
        EXPECT_LT(back.size(), norm.size()) << name;
      }
    }
  }
}

TEST(Robustness, OneMegabyteIsFast) {
  std::string text;
  const std::string sample = test::read_file(test::kShared + "/reference/stories260K-sample.txt");
  std::string strings;
  for (const std::string& s : test::shared_test_strings()) strings += s + "\n";
  while (text.size() < (1u << 20)) text += sample + strings;
  for (const char* name : {"llama-spm", "qwen2", "deepseek-llm"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const Tokenizer tok = test::load_vocab_tokenizer(name);
    const auto t1 = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tok.encode(text, false, true);
    const auto t2 = std::chrono::steady_clock::now();
    const double load_s = std::chrono::duration<double>(t1 - t0).count();
    const double encode_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("%s: load %.3f s, encode 1 MiB %.3f s (%zu tokens)\n", name, load_s, encode_s, ids.size());
    EXPECT_GT(ids.size(), text.size() / 8);
    EXPECT_LT(encode_s, 1.0) << name;
    EXPECT_LT(load_s, 2.0) << name;
    EXPECT_EQ(tok.decode(ids, true), text);
  }
}

}  // namespace
}  // namespace rf
