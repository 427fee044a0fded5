// Builds the Writer for a random model: metadata, copied tokenizer, and per-row seeded weights.
#include "random_model.h"

#include <memory>
#include <thread>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "quant/quantize.h"
#include "threading/thread_pool.h"

namespace rf::make_gguf {
namespace {

constexpr float kWeightStd = 0.02f;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Approximately standard normal: the Irwin-Hall sum of four 16-bit uniforms, centred and scaled
// to unit variance (tails end at +-3.46). One generator call per value keeps 1.1B values fast.
float standard_normal(uint64_t& state) {
  const uint64_t r = splitmix64(state);
  const auto sum = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
  constexpr float kMean = 2.0f * 65535.0f;
  constexpr float kInvStd = 1.0f / 37837.23f;  // sqrt(4 * (65536^2 - 1) / 12)
  return (sum - kMean) * kInvStd;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

struct Plan {
  const ModelShape* shape = nullptr;
  int64_t n_vocab = 0;
  std::vector<TensorSpec> tensors;
};

Status add_metadata(const Options& opt, const ModelShape& s, gguf::Writer& w, int64_t& n_vocab) {
  auto vocab = gguf::File::open(opt.vocab_path);
  if (!vocab.ok()) return make_error("vocabulary: %s", vocab.error().message.c_str());
  const gguf::Array* tokens = vocab->get_array("tokenizer.ggml.tokens");
  if (tokens == nullptr) {
    return make_error("vocabulary '%s' has no tokenizer.ggml.tokens", opt.vocab_path.c_str());
  }
  n_vocab = static_cast<int64_t>(tokens->count);
  if (s.n_vocab != 0 && s.n_vocab != n_vocab) {
    return make_error("%.*s has a vocabulary of %lld tokens, but '%s' has %lld (use the model family's vocab file)",
                      static_cast<int>(s.name.size()), s.name.data(), static_cast<long long>(s.n_vocab),
                      opt.vocab_path.c_str(), static_cast<long long>(n_vocab));
  }
  const std::string a = std::string(s.arch) + ".";
  w.add_string("general.architecture", s.arch);
  w.add_string("general.name", "rocmforge random " + std::string(s.name) + " " +
                                   std::string(file_type_name(opt.type)) + " seed " + std::to_string(opt.seed));
  w.add_u32("general.file_type", llama_file_type(opt.type));
  if (opt.type != FileType::kF32 && opt.type != FileType::kF16 && opt.type != FileType::kBF16) {
    w.add_u32("general.quantization_version", 2);
  }
  w.add_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.add_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.add_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.add_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.add_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.add_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.add_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.add_f32(a + "rope.freq_base", s.rope_freq_base);
  w.add_u32(a + "rope.dimension_count", static_cast<uint32_t>(s.n_embd / s.n_head));
  for (const gguf::KeyValue& kv : vocab->metadata()) {
    if (kv.key.starts_with("tokenizer.")) w.add_value(kv.key, kv.value);
  }
  return {};
}

// Adds metadata and tensors to `w`; the tensors' fills use `pool` when `w` is serialized.
Status build(const Options& opt, ThreadPool& pool, gguf::Writer& w) {
  const ModelShape* shape = find_model_shape(opt.arch);
  if (shape == nullptr) return make_error("unknown model shape '%s'", opt.arch.c_str());
  int64_t n_vocab = 0;
  RF_RETURN_IF_ERROR(add_metadata(opt, *shape, w, n_vocab));
  for (TensorSpec& spec : tensor_specs(*shape, n_vocab, opt.type)) {
    const std::string name = spec.name;
    const std::vector<int64_t> ne = spec.ne;
    const DType type = spec.type;
    w.add_tensor(name, type, ne, [spec = std::move(spec), seed = opt.seed, &pool](std::span<uint8_t> out) {
      fill_tensor(spec, seed, out, pool);
    });
  }
  return {};
}

int thread_count(const Options& opt) {
  if (opt.n_threads > 0) return opt.n_threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

void fill_tensor(const TensorSpec& spec, uint64_t seed, std::span<uint8_t> out, ThreadPool& pool) {
  const int64_t ne0 = spec.ne[0];
  int64_t n_rows = 1;
  for (size_t d = 1; d < spec.ne.size(); ++d) n_rows *= spec.ne[d];
  const auto bytes = row_bytes(spec.type, static_cast<uint64_t>(ne0));
  RF_CHECK(bytes.has_value() && *bytes * static_cast<uint64_t>(n_rows) == out.size());
  const uint64_t tensor_seed = fnv1a(spec.name) ^ (seed * 0x9e3779b97f4a7c15ull);
  const float scale = kWeightStd;
  const float offset = spec.init == Init::kNorm ? 1.0f : 0.0f;
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(static_cast<size_t>(ne0));
    for (int64_t r = begin; r < end; ++r) {
      uint64_t state = tensor_seed + static_cast<uint64_t>(r) * 0xd1b54a32d192ed03ull;
      for (float& x : row) x = offset + scale * standard_normal(state);
      quantize_row(spec.type, row.data(), out.data() + static_cast<uint64_t>(r) * *bytes, ne0);
    }
  });
}

Status write_random_model(const Options& opt, const std::string& path) {
  ThreadPool pool(thread_count(opt));
  gguf::Writer w;
  RF_RETURN_IF_ERROR(build(opt, pool, w));
  return w.write(path);
}

Result<std::vector<uint8_t>> random_model_bytes(const Options& opt) {
  ThreadPool pool(thread_count(opt));
  gguf::Writer w;
  RF_RETURN_IF_ERROR(build(opt, pool, w));
  return w.to_bytes();
}

}  // namespace rf::make_gguf
