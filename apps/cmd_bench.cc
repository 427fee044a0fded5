// `rocmforge bench`: llama-bench's tests and output (-p/-n/-t/-r, -o json), plus --roofline ratios.
#include <cstdio>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "generation.h"
#include "cpu/kernels.h"
#include "runtime/bench.h"
#include "runtime/roofline.h"
#include "threading/thread_pool.h"

namespace rf::app {
namespace {

struct BenchOptions {
  EvalOptions eval;  // model, batch size and KV cache types (threads come as a list below)
  std::vector<int64_t> n_prompt = {512};
  std::vector<int64_t> n_gen = {128};
  std::vector<int> threads;
  int repetitions = 5;
  bool roofline = false;
  std::string format;
};

struct Row {
  BenchResult result;
  int threads = 0;
  double roof_ts = 0;  // tokens/s the measured roof allows (0 without --roofline)
  Roofline roof;       // measured around this test
};

std::string test_name(const BenchTest& t) {
  if (t.n_prompt > 0 && t.n_gen > 0) return "pp" + std::to_string(t.n_prompt) + "+tg" + std::to_string(t.n_gen);
  return t.n_prompt > 0 ? "pp" + std::to_string(t.n_prompt) : "tg" + std::to_string(t.n_gen);
}

std::string weight_type_name(const Model& model) {
  return std::string(dtype_name(model.weights().layers.front().w_gate.type));
}

uint64_t n_params(const Model& model) {
  uint64_t n = 0;
  for (const auto& t : model.file().tensors()) n += t.n_elements;
  return n;
}

// Decode is bounded by reading the weights; prefill by multiply-adds at the weight type's peak.
double roof_tokens_per_second(const Model& model, const BenchTest& test, const Roofline& roof) {
  if (test.n_prompt == 0) return roof.read_gbps * 1e9 / static_cast<double>(decode_bytes_per_token(model));
  const DType t = model.weights().layers.front().w_gate.type;
  const bool float_weights = t == DType::kF32 || t == DType::kF16 || t == DType::kBF16;
  const double peak_gops = float_weights ? std::max(roof.fp32_gflops, roof.bf16_gflops) : roof.int8_gops;
  return peak_gops * 1e9 / ops_per_token(model);
}

std::string iso_time_now() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

void print_json(const BenchOptions& o, const Model& model, const std::vector<Row>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& row : rows) {
    const BenchResult& r = row.result;
    std::vector<double> samples_ns;
    std::vector<double> samples_ts;
    for (const double s : r.seconds) {
      samples_ns.push_back(s * 1e9);
      samples_ts.push_back(static_cast<double>(r.test.n_prompt + r.test.n_gen) / s);
    }
    nlohmann::json j = {
        {"model_filename", o.eval.model},
        {"model_type", model.config().arch_name + " " + weight_type_name(model)},
        {"model_size", model.weight_bytes()},
        {"model_n_params", n_params(model)},
        {"backend", std::string("CPU ") + std::string(cpu::isa_name(cpu::kernels().isa))},
        {"cpu_info", hardware().cpu.model_name},
        {"n_batch", o.eval.n_batch},
        {"n_threads", row.threads},
        {"n_prompt", r.test.n_prompt},
        {"n_gen", r.test.n_gen},
        {"test_time", iso_time_now()},
        {"avg_ns", r.avg_seconds() * 1e9},
        {"stddev_ns", r.stddev_seconds() * 1e9},
        {"avg_ts", r.avg_ts()},
        {"stddev_ts", r.stddev_ts()},
        {"samples_ns", samples_ns},
        {"samples_ts", samples_ts},
    };
    if (o.roofline) {
      const Roofline& roof = row.roof;
      j["roof_ts"] = row.roof_ts;
      j["roof_fraction"] = r.avg_ts() / row.roof_ts;
      j["roofline"] = {{"read_gbps", roof.read_gbps}, {"fp32_gflops", roof.fp32_gflops},
                       {"int8_gops", roof.int8_gops}, {"bf16_gflops", roof.bf16_gflops}};
    }
    out.push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2).c_str());
}

std::string human_bytes(uint64_t bytes) {
  char buf[32];
  const auto b = static_cast<double>(bytes);
  std::snprintf(buf, sizeof buf, b >= (1u << 30) ? "%.2f GiB" : "%.2f MiB", b >= (1u << 30) ? b / (1u << 30) : b / (1u << 20));
  return buf;
}

std::string human_count(uint64_t n) {
  char buf[32];
  const auto x = static_cast<double>(n);
  std::snprintf(buf, sizeof buf, x >= 1e9 ? "%.2f B" : "%.2f M", x >= 1e9 ? x / 1e9 : x / 1e6);
  return buf;
}

void print_table(const BenchOptions& o, const Model& model, const std::vector<Row>& rows) {
  const bool roof = o.roofline;
  std::printf("| model | size | params | backend | threads | test | t/s |%s\n",
              roof ? " roof t/s | % of roof | read GB/s | int8 GOP/s | fp32 GFLOP/s | bf16 GFLOP/s |" : "");
  std::printf("| --- | ---: | ---: | --- | ---: | ---: | ---: |%s\n", roof ? " ---: | ---: | ---: | ---: | ---: | ---: |" : "");
  for (const Row& row : rows) {
    const BenchResult& r = row.result;
    std::printf("| %s %s | %s | %s | CPU %s | %d | %s | %.2f ± %.2f |", model.config().arch_name.c_str(),
                weight_type_name(model).c_str(), human_bytes(model.weight_bytes()).c_str(),
                human_count(n_params(model)).c_str(), cpu::isa_name(cpu::kernels().isa).data(), row.threads,
                test_name(r.test).c_str(), r.avg_ts(), r.stddev_ts());
    if (roof) {
      std::printf(" %.2f | %.0f %% | %.1f | %.0f | %.0f | %.0f |", row.roof_ts, 100.0 * r.avg_ts() / row.roof_ts,
                  row.roof.read_gbps, row.roof.int8_gops, row.roof.fp32_gflops, row.roof.bf16_gflops);
    }
    std::printf("\n");
  }
}

int run_benchmarks(const BenchOptions& o) {
  auto model = load_model(o.eval.model, o.eval.load);
  if (!model.ok()) return fail(model.error().message);
  std::vector<BenchTest> tests;
  for (const int64_t p : o.n_prompt) {
    if (p > 0) tests.push_back({p, 0});
  }
  for (const int64_t n : o.n_gen) {
    if (n > 0) tests.push_back({0, n});
  }
  std::vector<Row> rows;
  for (const int threads : o.threads) {
    ThreadPool pool(threads);
    for (const BenchTest& test : tests) {
      // Shared machines drift: the roof is measured right before and right after each test,
      // and the better of the two (per resource) is what the test is held against.
      Roofline roof;
      if (o.roofline) roof = measure_roofline(pool, cpu::kernels());
      std::fprintf(stderr, "running %s with %d threads, %d repetitions\n", test_name(test).c_str(), threads,
                   o.repetitions);
      auto result = run_bench(*model, pool, test, o.repetitions, session_params(o.eval, 0, false));
      if (!result.ok()) return fail(result.error().message);
      if (o.roofline) {
        const Roofline after = measure_roofline(pool, cpu::kernels());
        roof = {std::max(roof.read_gbps, after.read_gbps), std::max(roof.fp32_gflops, after.fp32_gflops),
                std::max(roof.int8_gops, after.int8_gops), std::max(roof.bf16_gflops, after.bf16_gflops)};
      }
      const double roof_ts = o.roofline ? roof_tokens_per_second(*model, test, roof) : 0.0;
      rows.push_back({std::move(result).value(), threads, roof_ts, roof});
    }
  }
  if (o.format == "json") {
    print_json(o, *model, rows);
  } else {
    print_table(o, *model, rows);
  }
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& root) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = root.add_subcommand("bench", "measure prompt and generation speed like llama-bench");
  add_model_option(cmd, o->eval.model);
  add_load_options(cmd, o->eval.load);
  o->eval.n_batch = 512;
  o->threads = {std::max(1, hardware().cpu.physical_cores)};
  cmd->add_option("-p,--n-prompt", o->n_prompt, "prompt lengths (comma-separated)")->delimiter(',')->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "generation lengths (comma-separated)")->delimiter(',')->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "thread counts (comma-separated)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("-r,--repetitions", o->repetitions, "repetitions of each test")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("-b,--batch-size", o->eval.n_batch, "prompt tokens per forward chunk")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  add_cache_type_options(cmd, o->eval);
  cmd->add_flag("--roofline", o->roofline, "measure bandwidth and peak compute in the same run and report each result as a fraction of its roof");
  add_output_option(cmd, o->format);
  return {cmd, [o] { return run_benchmarks(*o); }};
}

}  // namespace rf::app
