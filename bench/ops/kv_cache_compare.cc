// kv_cache_compare: what a q8_0 KV cache changes on a real model, against the f32 cache.
//
//   kv_cache_compare <model.gguf> [--threads N] [--tokens N] [--text FILE] [--speed REPS]
//
// Accuracy: the logits of every position of one sequence (the text's tokens, else pseudo-random
// ids) with keys and/or values in q8_0, against f32 keys and values: max and RMS difference,
// relative to the RMS of the logits, and how often the top token changes; beside them the noise
// floor of f32 rounding (the f32 cache fed token by token).
// --speed REPS: prefill of 512 tokens and decode steps at contexts 512 and 2048, per cache type.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kv/kv_cache.h"
#include "model/model.h"
#include "model/session.h"
#include "threading/thread_pool.h"

namespace rf {
namespace {

using cpu::KvFormat;

struct CacheTypes {
  KvFormat k, v;
  std::string name() const { return "K " + std::string(kv_type_name(k)) + " / V " + std::string(kv_type_name(v)); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> all_logits(const Model& model, ThreadPool& pool, const std::vector<int32_t>& tokens, CacheTypes c,
                              int64_t n_batch = 64) {
  SessionParams p;
  p.n_ctx = static_cast<int64_t>(tokens.size());
  p.n_batch = n_batch;
  p.logits_all = true;
  p.k_type = c.k;
  p.v_type = c.v;
  auto session = Session::create(model, pool, p);
  if (!session.ok() || !session->eval(tokens).ok()) {
    std::fprintf(stderr, "evaluation failed\n");
    std::exit(1);
  }
  std::vector<float> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto l = session->logits(static_cast<int64_t>(i));
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

void accuracy(const Model& model, ThreadPool& pool, const std::vector<int32_t>& tokens) {
  const int64_t n_vocab = model.config().n_vocab;
  const std::vector<float> ref = all_logits(model, pool, tokens, {KvFormat::kF32, KvFormat::kF32});
  double ref_sq = 0;
  for (const float x : ref) ref_sq += static_cast<double>(x) * x;
  const double ref_rms = std::sqrt(ref_sq / static_cast<double>(ref.size()));
  std::printf("accuracy over %zu positions (logit RMS %.3f):\n", tokens.size(), ref_rms);
  // The first row is the noise floor: the same f32 cache fed one token at a time (decode kernels
  // instead of prefill ones) differs from the reference by rounding alone.
  struct Row {
    CacheTypes c;
    int64_t n_batch;
  };
  for (const Row row : {Row{{KvFormat::kF32, KvFormat::kF32}, 1}, Row{{KvFormat::kQ8_0, KvFormat::kF32}, 64},
                        Row{{KvFormat::kF32, KvFormat::kQ8_0}, 64}, Row{{KvFormat::kQ8_0, KvFormat::kQ8_0}, 64}}) {
    const CacheTypes c = row.c;
    const std::vector<float> got = all_logits(model, pool, tokens, c, row.n_batch);
    double max_d = 0, sq = 0;
    int64_t top_changed = 0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      const float* a = ref.data() + t * static_cast<size_t>(n_vocab);
      const float* b = got.data() + t * static_cast<size_t>(n_vocab);
      for (int64_t i = 0; i < n_vocab; ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
        max_d = std::max(max_d, d);
        sq += d * d;
      }
      top_changed += std::max_element(a, a + n_vocab) - a != std::max_element(b, b + n_vocab) - b;
    }
    const double rms = std::sqrt(sq / static_cast<double>(ref.size()));
    std::printf("  %-22s max |dlogit| %.4g  RMS %.4g  (RMS / logit RMS %.2e)  top token changed at %lld of %zu\n",
                (c.name() + (row.n_batch == 1 ? " stepped" : "")).c_str(), max_d, rms, rms / ref_rms, static_cast<long long>(top_changed), tokens.size());
  }
}

// Timings alternate between the cache types, best of `reps`, so that load from other processes
// hits both alike: prefill of 512 tokens, then single decode steps at positions 511 and 2047.
void speed(const Model& model, ThreadPool& pool, int reps) {
  const int64_t n_vocab = model.config().n_vocab;
  std::vector<int32_t> tokens(2048);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(n_vocab));
  const CacheTypes types[] = {{KvFormat::kF32, KvFormat::kF32}, {KvFormat::kQ8_0, KvFormat::kQ8_0}};
  std::vector<Session> sessions;
  for (const CacheTypes c : types) {
    SessionParams p;
    p.n_ctx = 2048;
    p.n_batch = 512;
    p.k_type = c.k;
    p.v_type = c.v;
    auto s = Session::create(model, pool, p);
    if (!s.ok()) std::exit(1);
    sessions.push_back(std::move(*s));
  }
  const auto timed = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return seconds_since(t0);
  };
  const auto must = [](const Status& st) {
    if (!st.ok()) std::exit(1);
  };
  double prefill[2] = {1e9, 1e9}, at512[2] = {1e9, 1e9}, at2048[2] = {1e9, 1e9};
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < 2; ++i) {
      Session& s = sessions[i];
      s.rewind(0);
      prefill[i] = std::min(prefill[i], timed([&] { must(s.eval(std::span(tokens).first(512))); }));
      s.rewind(511);
      at512[i] = std::min(at512[i], timed([&] { must(s.eval(std::span(tokens).subspan(511, 1))); }));
    }
  }
  for (Session& s : sessions) {
    s.rewind(512);
    must(s.eval(std::span(tokens).subspan(512, 2047 - 512)));
  }
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < 2; ++i) {
      sessions[i].rewind(2047);
      at2048[i] = std::min(at2048[i], timed([&] { must(sessions[i].eval(std::span(tokens).subspan(2047, 1))); }));
    }
  }
  std::printf("speed (%d threads, best of %d):\n", pool.size(), reps);
  const ModelConfig& c = model.config();
  for (size_t i = 0; i < 2; ++i) {
    const double mib = static_cast<double>(KvCache(c.n_layer, 2048, c.n_head_kv, c.head_dim, types[i].k, types[i].v).bytes()) / (1 << 20);
    std::printf("  %-22s prefill 512: %.1f tokens/s  decode at 512: %.1f ms  at 2048: %.1f ms  (cache of 2048: %.0f MiB)\n",
                types[i].name().c_str(), 512 / prefill[i], at512[i] * 1e3, at2048[i] * 1e3, mib);
  }
}

}  // namespace
}  // namespace rf

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.gguf [--threads N] [--tokens N] [--text FILE] [--speed REPS]\n", argv[0]);
    return 2;
  }
  int threads = 2;
  size_t n_tokens = 256;
  std::string text_file;
  int speed_reps = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--tokens" && i + 1 < argc) n_tokens = static_cast<size_t>(std::atol(argv[++i]));
    else if (a == "--text" && i + 1 < argc) text_file = argv[++i];
    else if (a == "--speed" && i + 1 < argc) speed_reps = std::atoi(argv[++i]);
  }
  auto model = rf::Model::load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.error().message.c_str());
    return 1;
  }
  rf::ThreadPool pool(threads);
  std::vector<int32_t> tokens;
  if (!text_file.empty()) {
    std::ifstream in(text_file);
    std::stringstream ss;
    ss << in.rdbuf();
    tokens = model->tokenizer().encode(ss.str(), true, false);
  }
  const auto n_vocab = static_cast<size_t>(model->config().n_vocab);
  for (size_t i = tokens.size(); i < n_tokens; ++i) tokens.push_back(static_cast<int32_t>((i * 2654435761u) % n_vocab));
  tokens.resize(n_tokens);
  rf::accuracy(*model, pool, tokens);
  if (speed_reps > 0) rf::speed(*model, pool, speed_reps);
  return 0;
}
