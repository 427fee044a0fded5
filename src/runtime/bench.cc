// Bench runner: timed pp/tg repetitions over a Session, plus the model's per-token traffic.
#include "runtime/bench.h"

#include <cmath>
#include <numeric>
#include <random>

#include "base/timer.h"
#include "model/session.h"

namespace rf {
namespace {

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double ss = 0.0;
  for (const double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

int64_t tokens_of(const BenchTest& t) { return t.n_prompt + t.n_gen; }

}  // namespace

double BenchResult::avg_seconds() const { return mean(seconds); }
double BenchResult::stddev_seconds() const { return stddev(seconds); }

double BenchResult::avg_ts() const {
  std::vector<double> ts;
  for (const double s : seconds) ts.push_back(static_cast<double>(tokens_of(test)) / s);
  return mean(ts);
}

double BenchResult::stddev_ts() const {
  std::vector<double> ts;
  for (const double s : seconds) ts.push_back(static_cast<double>(tokens_of(test)) / s);
  return stddev(ts);
}

Result<BenchResult> run_bench(const Model& model, ThreadPool& pool, const BenchTest& test, int repetitions,
                              SessionParams params) {
  params.n_ctx = std::max<int64_t>(tokens_of(test), 1);
  params.logits_all = false;
  auto session = Session::create(model, pool, params);
  if (!session.ok()) return session.error();
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(model.config().n_vocab - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(test.n_prompt));
  for (int32_t& t : prompt) t = pick(rng);

  BenchResult result{test, {}};
  for (int rep = -1; rep < repetitions; ++rep) {  // rep -1 is the warm-up
    session->rewind(0);
    const double start = now_seconds();
    if (test.n_prompt > 0) RF_RETURN_IF_ERROR(session->eval(prompt));
    for (int64_t i = 0; i < test.n_gen; ++i) {
      const int32_t token = pick(rng);
      RF_RETURN_IF_ERROR(session->eval(std::span(&token, 1)));
    }
    if (rep >= 0) result.seconds.push_back(now_seconds() - start);
  }
  return result;
}

uint64_t decode_bytes_per_token(const Model& model) {
  const ModelWeights& w = model.weights();
  uint64_t bytes = w.output.row_bytes * static_cast<uint64_t>(w.output.rows) + w.token_embd.row_bytes;
  for (const LayerWeights& l : w.layers) {
    for (const cpu::MatrixView* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      bytes += m->row_bytes * static_cast<uint64_t>(m->rows);
    }
  }
  return bytes;
}

double ops_per_token(const Model& model) {
  const ModelWeights& w = model.weights();
  double elements = static_cast<double>(w.output.rows * w.output.cols);
  for (const LayerWeights& l : w.layers) {
    for (const cpu::MatrixView* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      elements += static_cast<double>(m->rows * m->cols);
    }
  }
  return 2.0 * elements;
}

}  // namespace rf
