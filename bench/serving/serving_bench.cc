// serving_bench MODEL [threads] [streams] [tokens] [prefix_tokens] [repetitions]
// Through the Engine (what `rocmforge serve` runs), greedy, one process:
//  1. one stream of `tokens` tokens, then `streams` concurrent streams of `tokens` each: aggregate
//     generated tokens/s of each and their ratio (the batched step's efficiency);
//  2. a request with a ~prefix_tokens prompt, then another sharing that prefix with a different
//     ending: time to first token of each and their ratio (the prefix cache).
// Medians of `repetitions` runs; a fresh engine per run so no run sees another's cache.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "base/timer.h"
#include "runtime/engine.h"

namespace {

using namespace rf;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Submits every prompt at once; returns (seconds until all finished, first-token time of each).
struct RunResult {
  double seconds = 0;
  std::vector<double> first_token;
  int64_t generated = 0;
};

RunResult run(Engine& engine, const std::vector<std::vector<int32_t>>& prompts, int64_t max_tokens) {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  RunResult r;
  r.first_token.assign(prompts.size(), -1.0);
  const double start = now_seconds();
  for (size_t i = 0; i < prompts.size(); ++i) {
    GenerationRequest req;
    req.prompt = prompts[i];
    req.max_tokens = max_tokens;
    req.sampling.temperature = 0.0f;
    req.stop_at_eos = false;
    const auto s = engine.submit(
        std::move(req),
        [&, i](const GeneratedToken&) {
          std::lock_guard lock(mu);
          if (r.first_token[i] < 0) r.first_token[i] = now_seconds() - start;
          ++r.generated;
          return true;
        },
        [&](const GenerationResult&) {
          std::lock_guard lock(mu);
          ++done;
          cv.notify_all();
        });
    if (s.status != SubmitResult::kAccepted) {
      std::fprintf(stderr, "error: %s\n", s.message.c_str());
      std::exit(1);
    }
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == prompts.size(); });
  r.seconds = now_seconds() - start;
  return r;
}

std::vector<int32_t> random_prompt(int64_t n, int64_t n_vocab, uint64_t seed) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& t : p) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t = static_cast<int32_t>(100 + x % static_cast<uint64_t>(n_vocab - 200));
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: serving_bench MODEL [threads=2] [streams=16] [tokens=64] [prefix=1000] [reps=3]\n");
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int streams = argc > 3 ? std::atoi(argv[3]) : 16;
  const int64_t tokens = argc > 4 ? std::atoll(argv[4]) : 64;
  const int64_t prefix = argc > 5 ? std::atoll(argv[5]) : 1000;
  const int reps = argc > 6 ? std::atoi(argv[6]) : 3;
  auto model = Model::load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.error().message.c_str());
    return 1;
  }
  const int64_t n_vocab = model->config().n_vocab;
  EngineParams params;
  params.n_threads = threads;
  params.max_running = streams;
  // Room for every stream (rounded up to whole 32-position blocks) and both prefix prompts: the
  // benchmark measures batching, not preemption.
  params.n_ctx = streams * ((16 + tokens + 31) / 32 * 32 + 32) + 2 * (prefix + 64);
  const auto engine_fresh = [&] {
    auto e = Engine::create(*model, params);
    if (!e.ok()) {
      std::fprintf(stderr, "error: %s\n", e.error().message.c_str());
      std::exit(1);
    }
    return std::move(e).value();
  };

  std::vector<double> one_ts, many_ts, cold_ttft, warm_ttft;
  for (int rep = 0; rep < reps; ++rep) {
    {
      auto engine = engine_fresh();
      const RunResult one = run(*engine, {random_prompt(16, n_vocab, 1000 + static_cast<uint64_t>(rep))}, tokens);
      one_ts.push_back(static_cast<double>(one.generated) / one.seconds);
      std::vector<std::vector<int32_t>> prompts;
      for (int s = 0; s < streams; ++s) prompts.push_back(random_prompt(16, n_vocab, 7 + static_cast<uint64_t>(s + rep * streams)));
      const RunResult many = run(*engine, prompts, tokens);
      many_ts.push_back(static_cast<double>(many.generated) / many.seconds);
    }
    {
      auto engine = engine_fresh();
      std::vector<int32_t> shared = random_prompt(prefix, n_vocab, 99 + static_cast<uint64_t>(rep));
      std::vector<int32_t> a = shared, b = shared;
      const auto tail_a = random_prompt(24, n_vocab, 5), tail_b = random_prompt(24, n_vocab, 6);
      a.insert(a.end(), tail_a.begin(), tail_a.end());
      b.insert(b.end(), tail_b.begin(), tail_b.end());
      cold_ttft.push_back(run(*engine, {a}, 1).first_token[0]);
      warm_ttft.push_back(run(*engine, {b}, 1).first_token[0]);
    }
  }
  const double one = median(one_ts), many = median(many_ts), cold = median(cold_ttft), warm = median(warm_ttft);
  std::printf("| test | result |\n|---|---|\n");
  std::printf("| 1 stream x %lld tokens | %.1f tok/s |\n", static_cast<long long>(tokens), one);
  std::printf("| %d streams x %lld tokens | %.1f tok/s aggregate (%.2fx one stream) |\n", streams,
              static_cast<long long>(tokens), many, many / one);
  std::printf("| TTFT, %lld-token prompt, cold | %.1f ms |\n", static_cast<long long>(prefix + 24), cold * 1e3);
  std::printf("| TTFT, same %lld-token prefix, other ending | %.1f ms (%.1fx faster) |\n",
              static_cast<long long>(prefix), warm * 1e3, cold / warm);
  std::printf("(medians of %d runs, %d threads)\n", reps, threads);
  return 0;
}
