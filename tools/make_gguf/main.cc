// rocmforge-make-gguf: writes a random-weight GGUF model of a real shape (for tests and benchmarks).
#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "random_model.h"

int main(int argc, char** argv) {
  using rf::make_gguf::FileType;
  CLI::App app{"Writes a random-weight GGUF model of a real shape; the tokenizer comes from --vocab."};
  rf::make_gguf::Options opt;
  std::string type = "f32";
  std::string out;
  std::string shapes;
  for (const auto& s : rf::make_gguf::model_shapes()) shapes += (shapes.empty() ? "" : "|") + std::string(s.name);
  app.add_option("--arch", opt.arch, shapes)->required();
  app.add_option("--type", type, "f32|f16|bf16|q8_0|q4_0|q4_k_m")->capture_default_str();
  app.add_option("--vocab", opt.vocab_path, "GGUF to copy tokenizer.* metadata from")->required();
  app.add_option("--seed", opt.seed, "weights are a function of the seed")->capture_default_str();
  app.add_option("-t,--threads", opt.n_threads, "0: one per CPU")->capture_default_str();
  app.add_option("-o,--output", out, "output .gguf path")->required();
  CLI11_PARSE(app, argc, argv);

  const auto file_type = rf::make_gguf::parse_file_type(type);
  if (!file_type) {
    std::fprintf(stderr, "error: unknown --type '%s' (expected f32|f16|bf16|q8_0|q4_0|q4_k_m)\n", type.c_str());
    return 1;
  }
  opt.type = *file_type;
  const auto start = std::chrono::steady_clock::now();
  const rf::Status st = rf::make_gguf::write_random_model(opt, out);
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s (%s %s, seed %llu) in %.1f s\n", out.c_str(), opt.arch.c_str(), type.c_str(),
              static_cast<unsigned long long>(opt.seed), seconds);
  return 0;
}
