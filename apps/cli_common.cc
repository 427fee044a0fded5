// Shared subcommand plumbing: model discovery, loading progress, option helpers.
#include "cli_common.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/timer.h"

namespace rf::app {

const hw::HardwareInfo& hardware() {
  static const hw::HardwareInfo info = hw::detect_hardware();
  return info;
}

std::string default_model_path() {
  namespace fs = std::filesystem;
  const fs::path rel = fs::path("shared") / "models" / "stories260K.gguf";
  std::vector<fs::path> roots = {fs::current_path()};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) roots.push_back(exe.parent_path());
  for (fs::path dir : roots) {
    for (int up = 0; up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
      if (fs::exists(dir / ".." / rel, ec)) return fs::weakly_canonical(dir / ".." / rel, ec).string();
      if (fs::exists(dir / rel, ec)) return (dir / rel).string();
      if (dir == dir.parent_path()) break;
    }
  }
  return "../shared/models/stories260K.gguf";
}

void add_model_option(CLI::App* cmd, std::string& path) {
  path = default_model_path();
  cmd->add_option("-m,--model", path, "GGUF model file")->capture_default_str();
}

void add_threads_option(CLI::App* cmd, int& threads) {
  threads = std::max(1, hardware().cpu.physical_cores);
  cmd->add_option("-t,--threads", threads, "threads (default: physical cores)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
}

void add_output_option(CLI::App* cmd, std::string& format) {
  format = "text";
  cmd->add_option("-o,--output", format, "output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
}

void add_load_options(CLI::App* cmd, LoadOptions& options) {
  cmd->add_flag("--f16-as-bf16", options.f16_as_bf16,
                "convert F16 weights to BF16 at load: faster prefill on CPUs with AVX512-BF16, "
                "bf16 precision (see docs/PERF.md)");
  cmd->add_flag_callback("--no-repack", [opts = &options] { opts->repack = false; },
                         "keep weights in the file's layout (by default q4_0/q8_0/f16/bf16/q4_K/q5_K/q6_K are "
                         "interleaved at load where the CPU kernels read that faster; results are identical, "
                         "k-quants within f32 rounding)");
}

Result<Model> load_model(const std::string& path, LoadOptions options) {
  const bool tty = isatty(STDERR_FILENO) != 0;
  int last_percent = -1;
  const double start = now_seconds();
  options.progress = [&](double fraction) {
    const int percent = static_cast<int>(fraction * 100.0);
    if (!tty || percent == last_percent || now_seconds() - start < 0.2) return;
    last_percent = percent;
    const int width = 30;
    const int filled = percent * width / 100;
    std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%", filled, "##############################",
                 width - filled, "", percent);
  };
  auto model = Model::load(path, options);
  if (last_percent >= 0) std::fprintf(stderr, "\n");
  if (model.ok()) {
    const ModelConfig& c = model->config();
    std::fprintf(stderr, "model: %s, %s, %lld layers, width %lld, vocab %lld, %.1f MiB, loaded in %.2f s\n",
                 path.c_str(), c.arch_name.c_str(), static_cast<long long>(c.n_layer),
                 static_cast<long long>(c.n_embd), static_cast<long long>(c.n_vocab),
                 static_cast<double>(model->weight_bytes()) / (1024.0 * 1024.0), now_seconds() - start);
  }
  return model;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read '%s'", path.c_str());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace rf::app
