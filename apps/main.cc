// rocmforge: the command-line entry point; each subcommand lives in its own cmd_*.cc file.
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli_common.h"
#include "hardware/report.h"

namespace rf::app {
Command add_hardware_command(CLI::App& root);
Command add_tokenize_command(CLI::App& root);
Command add_run_command(CLI::App& root);
Command add_logits_command(CLI::App& root);
Command add_perplexity_command(CLI::App& root);
Command add_bench_command(CLI::App& root);
Command add_chat_command(CLI::App& root);
Command add_serve_command(CLI::App& root);
}  // namespace rf::app

int main(int argc, char** argv) {
  using namespace rf::app;
  CLI::App root{"rocmforge: run GGUF language models fast on the hardware you have"};
  root.require_subcommand(0, 1);
  bool show_hardware = false;
  root.add_flag("--hardware", show_hardware, "print the detected hardware and exit");

  const Command commands[] = {
      add_hardware_command(root), add_tokenize_command(root), add_run_command(root),
      add_logits_command(root),   add_perplexity_command(root), add_bench_command(root),
      add_chat_command(root),
      add_serve_command(root),
  };
  // llama.cpp spells some long names with one dash (-ctk, -ctv, -np, -sys); CLI11 wants two.
  std::vector<std::string> args(argv, argv + argc);
  for (std::string& a : args) {
    if (a == "-ctk" || a == "-ctv" || a == "-np" || a == "-sys") a.insert(0, "-");
  }
  std::vector<char*> argv_fixed;
  for (std::string& a : args) argv_fixed.push_back(a.data());
  CLI11_PARSE(root, argc, argv_fixed.data());

  if (show_hardware) return commands[0].run();
  for (const Command& cmd : commands) {
    if (!cmd.cli->parsed()) continue;
    if (cmd.cli != commands[0].cli) {
      std::fprintf(stderr, "%s\n", rf::hw::summary_line(hardware()).c_str());
    }
    // Errors input can cause come back as Results; this catches what the library cannot
    // foresee (an allocation the machine cannot satisfy), so it ends with a message, not abort().
    try {
      return cmd.run();
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "error: out of memory\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
    }
    return 1;
  }
  std::fprintf(stderr, "%s", root.help().c_str());
  return 1;
}
