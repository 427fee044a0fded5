// The hostile corpus: committed files match their generator, each is rejected quickly with a
// message naming the problem, and the rocmforge CLI exits with an error (no signal) on each.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "corpus.h"
#include "gguf/gguf.h"

namespace rf::gguf {
namespace {

namespace fs = std::filesystem;
using corpus::CorpusEntry;
using corpus::make_corpus;

const fs::path kCorpusDir = fs::path(ROCMFORGE_TEST_DATA_DIR) / "corpus";
constexpr auto kParseBudget = std::chrono::milliseconds(250);

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// libFuzzer's names for inputs it saved; they stay in the corpus as regressions.
bool is_fuzz_finding(const std::string& name) {
  return name.starts_with("crash-") || name.starts_with("timeout-") || name.starts_with("oom-") ||
         name.starts_with("leak-");
}

TEST(GgufCorpus, CommittedFilesMatchTheGenerator) {
  std::set<std::string> generated;
  for (const CorpusEntry& e : make_corpus()) {
    SCOPED_TRACE(e.name);
    generated.insert(e.name);
    ASSERT_TRUE(fs::exists(kCorpusDir / e.name))
        << "regenerate with: rocmforge-gguf-corpus " << kCorpusDir.string();
    EXPECT_EQ(read_all(kCorpusDir / e.name), e.bytes)
        << "regenerate with: rocmforge-gguf-corpus " << kCorpusDir.string();
  }
  for (const auto& f : fs::directory_iterator(kCorpusDir)) {
    const std::string name = f.path().filename().string();
    EXPECT_TRUE(generated.contains(name) || is_fuzz_finding(name)) << "stray corpus file " << name;
  }
}

TEST(GgufCorpus, EveryHostileFileIsRejectedQuicklyWithAMessageNamingTheProblem) {
  size_t hostile = 0;
  for (const CorpusEntry& e : make_corpus()) {
    SCOPED_TRACE(e.name);
    const auto start = std::chrono::steady_clock::now();
    auto f = File::open((kCorpusDir / e.name).string());
    EXPECT_LT(std::chrono::steady_clock::now() - start, kParseBudget);
    if (e.expect.empty()) {
      EXPECT_TRUE(f.ok()) << f.error().message;
      continue;
    }
    ++hostile;
    ASSERT_FALSE(f.ok());
    const std::string message = lower(f.error().message);
    EXPECT_NE(message.find(e.name), std::string::npos) << "message should name the file: " << message;
    for (const std::string& word : e.expect) {
      EXPECT_NE(message.find(lower(word)), std::string::npos) << "'" << word << "' not in: " << message;
    }
  }
  EXPECT_GT(hostile, 50u);
}

// Reads every element through the accessors, as the fuzzer does (so its findings replay here).
void touch_all(const Array& a) {
  if (a.type == ValueType::kArray) {
    for (const Array& inner : a.arrays) touch_all(inner);
  } else if (a.is_numeric()) {
    for (uint64_t i = 0; i < a.count; ++i) {
      EXPECT_EQ(a.int_at(i), a.int_at(i));
      (void)a.float_at(i);
    }
  }
}

TEST(GgufCorpus, FuzzFindingsParseQuicklyWithoutCrashing) {
  for (const auto& f : fs::directory_iterator(kCorpusDir)) {
    const std::string name = f.path().filename().string();
    if (!is_fuzz_finding(name)) continue;
    SCOPED_TRACE(name);
    const std::vector<uint8_t> bytes = read_all(f.path());
    const auto start = std::chrono::steady_clock::now();
    auto parsed = File::parse(bytes);
    EXPECT_LT(std::chrono::steady_clock::now() - start, kParseBudget);
    if (parsed.ok()) {
      for (const KeyValue& kv : parsed->metadata()) touch_all(kv.value.arr);
      for (const TensorInfo& t : parsed->tensors()) {
        EXPECT_LE(t.data + t.n_bytes, bytes.data() + bytes.size()) << t.name;
      }
    }
  }
}

// Eight nested arrays each claiming as many elements as the file could hold: the parser must not
// size anything by those claims (it once took 3 GB and 6 s for a 64 MB file like this).
TEST(GgufCorpus, NestedArrayClaimsCostNeitherMemoryNorTime) {
  constexpr size_t kSize = 32u << 20;
  std::vector<uint8_t> bytes(kSize, 0);
  size_t pos = 0;
  auto put = [&](const auto& v) {
    std::memcpy(bytes.data() + pos, &v, sizeof v);
    pos += sizeof v;
  };
  put(kMagic), put(uint32_t{3}), put(uint64_t{0}), put(uint64_t{1});
  put(uint64_t{1}), put('a'), put(static_cast<uint32_t>(ValueType::kArray));
  for (int level = 0; level < 9; ++level) {
    put(static_cast<uint32_t>(ValueType::kArray));
    put(static_cast<uint64_t>((kSize - pos) / 12 - 1));
  }
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  auto f = File::parse(bytes);
  EXPECT_LT(std::chrono::steady_clock::now() - start, kParseBudget);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "KiB of new peak memory";
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("nests arrays deeper"), std::string::npos) << f.error().message;
}

// Runs `argv` with output discarded; returns the wait status, killing it after 30 s.
int run_quietly(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  for (int waited_ms = 0; waitpid(pid, &status, WNOHANG) == 0; waited_ms += 5) {
    if (waited_ms > 30000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "timed out: " << args[3];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status;
}

TEST(GgufCorpus, CliExitsWithAnErrorOnEveryHostileFile) {
  const std::string bin = std::string(ROCMFORGE_BIN_DIR) + "/rocmforge";
  if (access(bin.c_str(), X_OK) != 0) GTEST_SKIP() << bin << " is not built";
  for (const CorpusEntry& e : make_corpus()) {
    if (e.expect.empty()) continue;
    SCOPED_TRACE(e.name);
    const int status = run_quietly({bin, "tokenize", "-m", (kCorpusDir / e.name).string(), "-p", "hi"});
    ASSERT_FALSE(WIFSIGNALED(status)) << "killed by signal " << WTERMSIG(status);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(WEXITSTATUS(status), 127) << "could not run " << bin;
  }
}

}  // namespace
}  // namespace rf::gguf
