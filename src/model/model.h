// Model: a loaded GGUF file with its config, bound weights and tokenizer; immutable and shareable.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "gguf/gguf.h"
#include "model/config.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace rf {

// Called with the fraction of weight pages brought into memory, from 0 to 1.
using LoadProgress = std::function<void(double)>;

class Model {
 public:
  // Maps the file, validates config and tensors, builds the tokenizer, and pages the weights in
  // (reporting progress) so the first token is not slowed by page faults.
  static Result<Model> load(const std::string& path, const LoadProgress& progress = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const gguf::File& file() const { return file_; }
  uint64_t weight_bytes() const;

 private:
  Model(gguf::File file, ModelConfig config, ModelWeights weights, Tokenizer tokenizer)
      : file_(std::move(file)), config_(std::move(config)), weights_(std::move(weights)),
        tokenizer_(std::move(tokenizer)) {}

  gguf::File file_;
  ModelConfig config_;
  ModelWeights weights_;
  Tokenizer tokenizer_;
};

}  // namespace rf
