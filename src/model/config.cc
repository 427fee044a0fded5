// Reading ModelConfig from GGUF metadata with checks that name the offending key.
#include "model/config.h"

#include <string>

namespace rf {
namespace {

class ConfigReader {
 public:
  ConfigReader(const gguf::File& file, std::string prefix) : file_(file), prefix_(std::move(prefix)) {}

  Status required(const char* key, int64_t& out, int64_t min_value) const {
    const std::string full = prefix_ + key;
    const auto v = file_.get_int(full);
    if (!v) return make_error("missing or non-integer metadata '%s'", full.c_str());
    if (*v < min_value) {
      return make_error("metadata '%s' is %lld, expected at least %lld", full.c_str(),
                        static_cast<long long>(*v), static_cast<long long>(min_value));
    }
    out = *v;
    return {};
  }

  void optional(const char* key, int64_t& out) const {
    if (const auto v = file_.get_int(prefix_ + key); v && *v > 0) out = *v;
  }

  void optional(const char* key, float& out) const {
    if (const auto v = file_.get_float(prefix_ + key); v && *v > 0) out = static_cast<float>(*v);
  }

 private:
  const gguf::File& file_;
  std::string prefix_;
};

}  // namespace

Result<ModelConfig> read_config(const gguf::File& file) {
  ModelConfig c;
  const auto arch = file.get_string("general.architecture");
  if (!arch) return make_error("missing metadata 'general.architecture'");
  c.arch_name = std::string(*arch);
  if (c.arch_name == "llama") {
    c.arch = Architecture::kLlama;
  } else if (c.arch_name == "qwen2") {
    c.arch = Architecture::kQwen2;
    c.rope_neox = true;
    c.qkv_bias = true;
  } else {
    return make_error("unknown architecture '%s' (supported: llama, qwen2)", c.arch_name.c_str());
  }

  if (file.tensors().empty()) return make_error("the file holds no tensors (a vocabulary-only GGUF?): nothing to run");

  const ConfigReader r(file, c.arch_name + ".");
  RF_RETURN_IF_ERROR(r.required("embedding_length", c.n_embd, 1));
  RF_RETURN_IF_ERROR(r.required("block_count", c.n_layer, 1));
  RF_RETURN_IF_ERROR(r.required("attention.head_count", c.n_head, 1));
  RF_RETURN_IF_ERROR(r.required("feed_forward_length", c.n_ff, 1));
  // Each layer has at least 9 tensors: a block count beyond what the file holds is corrupt, and
  // must be caught before anything is sized by it.
  if (static_cast<uint64_t>(c.n_layer) > file.tensors().size()) {
    return make_error("metadata '%s.block_count' is %lld, but the file holds only %zu tensors", c.arch_name.c_str(),
                      static_cast<long long>(c.n_layer), file.tensors().size());
  }
  c.n_head_kv = c.n_head;
  r.optional("attention.head_count_kv", c.n_head_kv);
  c.n_ctx_train = 2048;
  r.optional("context_length", c.n_ctx_train);
  r.optional("attention.layer_norm_rms_epsilon", c.rms_eps);
  r.optional("rope.freq_base", c.rope_freq_base);

  if (c.n_embd % c.n_head != 0) {
    return make_error("embedding_length %lld is not divisible by head_count %lld",
                      static_cast<long long>(c.n_embd), static_cast<long long>(c.n_head));
  }
  c.head_dim = c.n_embd / c.n_head;
  r.optional("attention.key_length", c.head_dim);
  if (c.n_head % c.n_head_kv != 0) {
    return make_error("head_count %lld is not a multiple of head_count_kv %lld",
                      static_cast<long long>(c.n_head), static_cast<long long>(c.n_head_kv));
  }
  c.n_rot = c.head_dim;
  r.optional("rope.dimension_count", c.n_rot);
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0) {
    return make_error("rope.dimension_count %lld must be even and at most the head size %lld",
                      static_cast<long long>(c.n_rot), static_cast<long long>(c.head_dim));
  }

  // Linear RoPE scaling: positions are divided by the factor.
  const auto scaling = file.get_string(c.arch_name + ".rope.scaling.type");
  float factor = 1.0f;
  r.optional("rope.scaling.factor", factor);
  if (scaling && *scaling == "linear") {
    c.rope_freq_scale = 1.0f / factor;
  } else if (scaling && *scaling != "none") {
    return make_error("unsupported rope.scaling.type '%.*s' (supported: none, linear)",
                      static_cast<int>(scaling->size()), scaling->data());
  }

  const gguf::Array* tokens = file.get_array("tokenizer.ggml.tokens");
  if (tokens == nullptr) return make_error("missing metadata 'tokenizer.ggml.tokens' (the vocabulary)");
  c.n_vocab = static_cast<int64_t>(tokens->count);
  return c;
}

}  // namespace rf
