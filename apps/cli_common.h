// Helpers shared by the subcommands: the default model, model loading with a progress bar, errors.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "base/result.h"
#include "hardware/hardware.h"
#include "model/model.h"

namespace rf::app {

// What main() needs from each subcommand: its CLI11 node and the function to run once parsed.
struct Command {
  CLI::App* cli = nullptr;
  std::function<int()> run;
};

// The hardware seen at start-up; subcommands read defaults (threads) from it.
const hw::HardwareInfo& hardware();

// ../shared/models/stories260K.gguf, searched from the working directory and from the binary's
// location, so `rocmforge run` works with no flags from the checkout or its build directory.
std::string default_model_path();

// Adds -m/--model with the default above.
void add_model_option(CLI::App* cmd, std::string& path);
// Adds -t/--threads defaulting to the physical core count.
void add_threads_option(CLI::App* cmd, int& threads);
// Adds -o/--output text|json.
void add_output_option(CLI::App* cmd, std::string& format);

// Adds --f16-as-bf16 and --no-repack.
void add_load_options(CLI::App* cmd, LoadOptions& options);

// Loads a model, drawing a progress bar on stderr when it is large enough to take a moment.
Result<Model> load_model(const std::string& path, LoadOptions options = {});

// Prints "error: <message>" on stderr and returns the exit code for failures (1).
int fail(const std::string& message);

// Reads a whole file; an error names the path.
Result<std::string> read_text_file(const std::string& path);

}  // namespace rf::app
