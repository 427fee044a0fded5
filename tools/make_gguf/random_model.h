// Random-weight GGUF models of real shapes: metadata as llama.cpp writes it, tokenizer copied
// from a vocabulary file, weights generated (and quantized) one tensor at a time while writing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "model_spec.h"

namespace rf {
class ThreadPool;
}

namespace rf::make_gguf {

struct Options {
  std::string arch;        // a ModelShape name, e.g. "tinyllama-1.1b"
  FileType type = FileType::kF32;
  std::string vocab_path;  // GGUF whose tokenizer.* metadata is copied (it sets n_vocab)
  uint64_t seed = 0;
  int n_threads = 0;       // 0: one per CPU
};

// Streams the model to `path`; holds one tensor in memory at a time.
Status write_random_model(const Options& opt, const std::string& path);
// The whole model in memory (for tests with tiny shapes).
Result<std::vector<uint8_t>> random_model_bytes(const Options& opt);

// Fills `out` (the tensor's bytes) with its random values: a function of the seed and the tensor's
// name and shape only, so f32 and quantized files of one seed hold the same underlying weights,
// and the thread count changes nothing.
void fill_tensor(const TensorSpec& spec, uint64_t seed, std::span<uint8_t> out, ThreadPool& pool);

}  // namespace rf::make_gguf
