// Runs the rocmforge binary for end-to-end tests: stdout, stderr and the exit code of one command.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace rf::test {

struct CliOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// `rocmforge ARGS` with `input` on stdin. ctest runs tests in parallel processes: each run gets
// its own stdin and stderr files.
inline CliOutput run_cli(const std::string& args, const std::string& input = "") {
  static int counter = 0;
  const std::string base = testing::TempDir() + "rf_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  {
    std::ofstream in(base + ".in", std::ios::binary);
    in << input;
  }
  const std::string cmd = std::string(ROCMFORGE_BIN_DIR) + "/rocmforge " + args + " <" + base + ".in 2>" + base + ".err";
  CliOutput o;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) o.out.append(buf, n);
  const int status = pclose(pipe);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(base + ".err");
  o.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  std::remove((base + ".in").c_str());
  std::remove((base + ".err").c_str());
  return o;
}

}  // namespace rf::test
