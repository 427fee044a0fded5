// `rocmforge chat` end to end on stories260K (no chat template: ChatML): each reply equals `rocmforge run`
// on the same templated conversation, so reusing the KV cache across turns changes nothing.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

#include "chat/chat_template.h"

namespace rf {
namespace {

const std::string kModel = std::string(ROCMFORGE_SHARED_DIR) + "/models/stories260K.gguf";
using rf::test::CliOutput;
using rf::test::run_cli;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// The reply `rocmforge run` gives to a prompt evaluated from scratch.
std::string run_reply(const std::string& prompt, int n) {
  const CliOutput o = run_cli("run -m " + kModel + " --temp 0 -o json -n " + std::to_string(n) + " -p " + shell_quote(prompt));
  EXPECT_EQ(o.exit_code, 0) << o.err;
  return nlohmann::json::parse(o.out)["text"].get<std::string>();
}

TEST(ChatCli, TwoTurnsMatchRunOnTheWholeConversation) {
  const CliOutput o = run_cli("chat -m " + kModel + " --temp 0 -n 16", "Hello there\nTell me a story\n");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.err.find("note: the model has no tokenizer.chat_template; using ChatML"), std::string::npos) << o.err;

  auto chatml = ChatTemplate::from_string(ChatTemplate::kChatMl, "", "");
  ASSERT_TRUE(chatml.ok());
  std::vector<ChatMessage> messages = {{"user", "Hello there"}};
  const std::string reply1 = run_reply(*chatml->apply(messages, true), 16);
  messages.push_back({"assistant", reply1});
  messages.push_back({"user", "Tell me a story"});
  const std::string reply2 = run_reply(*chatml->apply(messages, true), 16);
  EXPECT_FALSE(reply1.empty());
  EXPECT_FALSE(reply2.empty());
  EXPECT_EQ(o.out, reply1 + "\n" + reply2 + "\n");

  // The second turn evaluated only what the cache did not hold.
  const size_t turn2 = o.err.find("turn 2: prompt ");
  ASSERT_NE(turn2, std::string::npos) << o.err;
  size_t total = 0;
  size_t reused = 0;
  ASSERT_EQ(std::sscanf(o.err.c_str() + turn2, "turn 2: prompt %zu tokens (%zu reused", &total, &reused), 2);
  EXPECT_GT(reused, 0u);
  EXPECT_LT(reused, total);
}

TEST(ChatCli, EndOfInputAndExitEndCleanly) {
  const CliOutput empty = run_cli("chat -m " + kModel + " --temp 0 -n 4", "");
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "");

  const CliOutput exited = run_cli("chat -m " + kModel + " --temp 0 -n 4", "Hi\n\n/exit\nnever answered\n");
  EXPECT_EQ(exited.exit_code, 0) << exited.err;
  EXPECT_NE(exited.err.find("turn 1:"), std::string::npos) << exited.err;
  EXPECT_EQ(exited.err.find("turn 2:"), std::string::npos) << exited.err;
}

TEST(ChatCli, ContextOverflowIsReportedNotFatal) {
  // A message that cannot fit is refused; the chat goes on with the next one.
  const std::string long_line(400, 'a');
  const CliOutput o = run_cli("chat -m " + kModel + " -c 64 --temp 0 -n 4", long_line + "\nHi\n");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.err.find("context holds 64 (raise -c)"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("turn 1:"), std::string::npos) << o.err;

  // A conversation that outgrows the context drops its oldest exchanges.
  const CliOutput longer = run_cli("chat -m " + kModel + " -c 96 --temp 0 -n 8", "Hi\nHello\nHow are you\nGood day\nBye\n");
  EXPECT_EQ(longer.exit_code, 0) << longer.err;
  EXPECT_NE(longer.err.find("dropped the oldest exchange"), std::string::npos) << longer.err;
  EXPECT_NE(longer.err.find("turn 5:"), std::string::npos) << longer.err;
}

TEST(ChatCli, BadTemplateFileFailsCleanly) {
  const std::string path = testing::TempDir() + "rf_bad_template_" + std::to_string(getpid()) + ".jinja";
  {
    std::ofstream f(path);
    f << "{% for m in messages %}{{ m.content }";
  }
  const CliOutput o = run_cli("chat -m " + kModel + " --chat-template-file " + path, "Hi\n");
  std::remove(path.c_str());
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("error: chat template, line 1, column 37: unexpected '}'"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace rf
