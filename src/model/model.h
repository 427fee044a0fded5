// Model: a loaded GGUF file with its config, bound weights and tokenizer; immutable and shareable.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"

#include "base/result.h"
#include "gguf/gguf.h"
#include "model/config.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace rf {

// Called with the fraction of weight pages brought into memory, from 0 to 1.
using LoadProgress = std::function<void(double)>;

struct LoadOptions {
  LoadProgress progress;
  // Converts F16 matrices to BF16 (see model/weight_convert.h): faster prefill on CPUs with
  // VDPBF16PS, at bf16's precision. Off by default because it changes results.
  bool f16_as_bf16 = false;
  // Repacks matrices into the interleaved layout where the CPU kernels read it faster
  // (model/weight_convert.h); results are bit-identical (k-quants: within f32 rounding, and
  // batch-invariant), so it is on unless asked otherwise.
  bool repack = true;
};

class Model {
 public:
  // Maps the file, validates config and tensors, builds the tokenizer, and pages the weights in
  // (reporting progress) so the first token is not slowed by page faults.
  static Result<Model> load(const std::string& path, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const gguf::File& file() const { return file_; }
  uint64_t weight_bytes() const;

 private:
  Model(gguf::File file, ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
        std::vector<AlignedBuffer<uint8_t>> converted)
      : file_(std::move(file)), config_(std::move(config)), weights_(std::move(weights)),
        tokenizer_(std::move(tokenizer)), converted_(std::move(converted)) {}

  gguf::File file_;
  ModelConfig config_;
  ModelWeights weights_;
  Tokenizer tokenizer_;
  std::vector<AlignedBuffer<uint8_t>> converted_;  // matrices rewritten at load; views point here
};

}  // namespace rf
