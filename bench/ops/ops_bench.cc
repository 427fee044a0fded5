// Attention over the KV cache and the element-wise operators, per ISA level, against this machine's
// roofs measured in the same run.
//
// attn_decode/<kv>/<isa>/ctx:N   one query token over N cached positions of a TinyLlama head layout
//                                (32 query heads, 4 KV heads, head_dim 64); bytes/s = K and V bytes
//                                read, from caches rotated through >= 256 MB (DRAM, as a deep model
//                                streams them); compare with roof/read.
// attn_prefill/<kv>/<isa>/ctx:N  512 query tokens ending a context of N positions (one layer, cache
//                                resident); FLOP/s counts q.k and p.v multiply-adds as 2 each over
//                                the causal triangle; compare with roof/fp32_fma.
// ops/<op>/<isa>                 bytes/s = bytes read and written.
// Runs on every CPU through a ThreadPool (wall time); "/1thread" variants use one thread and report
// its CPU time, which stays comparable while other work shares the machine.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "kv/kv_cache.h"
#include "threading/thread_pool.h"

namespace rf::cpu {
namespace {

constexpr int64_t kHeads = 32;
constexpr int64_t kKvHeads = 4;
constexpr int64_t kHeadDim = 64;
constexpr int64_t kPrefillTokens = 512;
constexpr uint64_t kStreamBytes = uint64_t{256} << 20;

ThreadPool& pool(bool all_threads) {
  static ThreadPool all(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  static ThreadPool one(1);
  return all_threads ? all : one;
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = uni(rng);
  return v;
}

// A cache of `layers` layers whose positions 0 .. n_pos - 1 hold random keys and values.
KvCache filled_cache(int64_t layers, int64_t n_ctx, int64_t n_pos, KvFormat type) {
  KvCache cache(layers, n_ctx, kKvHeads, kHeadDim, type, type);
  const std::vector<float> k = random_floats(n_pos * kKvHeads * kHeadDim, 1);
  const std::vector<float> v = random_floats(n_pos * kKvHeads * kHeadDim, 2);
  for (int64_t l = 0; l < layers; ++l) cache.store(l, 0, n_pos, k.data(), v.data(), kKvHeads * kHeadDim);
  return cache;
}

uint64_t kv_bytes_per_position(KvFormat type) {
  const uint64_t row = type == KvFormat::kF32 ? kHeadDim * sizeof(float) : kHeadDim / 32 * 34;
  return 2 * row * kKvHeads;
}

void BM_AttentionDecode(benchmark::State& state, Isa isa, KvFormat type, int64_t ctx, bool all_threads) {
  ThreadPool& p = pool(all_threads);
  const uint64_t layer_bytes = kv_bytes_per_position(type) * static_cast<uint64_t>(ctx);
  const auto layers = static_cast<int64_t>(std::max<uint64_t>(1, kStreamBytes / layer_bytes));
  const KvCache cache = filled_cache(layers, ctx, ctx, type);
  const std::vector<float> q = random_floats(kHeads * kHeadDim, 3);
  std::vector<float> out(q.size());
  AttentionWorkspace ws({kHeads, kKvHeads, kHeadDim}, p.size(), 1, ctx);
  const OpsKernels& ops = kernels_for(isa).ops;
  int64_t layer = 0;
  for (auto _ : state) {
    attention(p, cache.layer(layer), q.data(), 1, ctx - 1, 0.125f, out.data(), ws, ops);
    layer = layer + 1 == layers ? 0 : layer + 1;
  }
  state.SetBytesProcessed(static_cast<int64_t>(layer_bytes) * state.iterations());
}

void BM_AttentionPrefill(benchmark::State& state, Isa isa, KvFormat type, int64_t ctx, bool all_threads) {
  ThreadPool& p = pool(all_threads);
  const KvCache cache = filled_cache(1, ctx, ctx, type);
  const std::vector<float> q = random_floats(kPrefillTokens * kHeads * kHeadDim, 3);
  std::vector<float> out(q.size());
  AttentionWorkspace ws({kHeads, kKvHeads, kHeadDim}, p.size(), kPrefillTokens, ctx);
  const OpsKernels& ops = kernels_for(isa).ops;
  const int64_t pos0 = ctx - kPrefillTokens;
  for (auto _ : state) attention(p, cache.layer(0), q.data(), kPrefillTokens, pos0, 0.125f, out.data(), ws, ops);
  // Token t sees pos0 + t + 1 positions: 2 multiply-adds (q.k, p.v) per head, feature and position.
  const double positions = static_cast<double>(kPrefillTokens) * static_cast<double>(pos0) +
                           static_cast<double>(kPrefillTokens * (kPrefillTokens + 1) / 2);
  const double flops = 4.0 * kHeads * kHeadDim * positions;
  state.counters["FLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

enum class Op { kRmsNorm, kSwiGlu, kSoftmax, kRope, kGelu, kAdd };

// One forward step's worth of an operator for 64 tokens of a TinyLlama-sized model.
void BM_Op(benchmark::State& state, Isa isa, Op op) {
  const OpsKernels& ops = kernels_for(isa).ops;
  constexpr int64_t kTokens = 64, kEmbd = 2048, kFf = 5632, kVocab = 32000;
  const int64_t n = op == Op::kSwiGlu || op == Op::kGelu ? kTokens * kFf : op == Op::kSoftmax ? kVocab : kTokens * kEmbd;
  std::vector<float> x = random_floats(n, 1), y = random_floats(n, 2), w = random_floats(kEmbd, 3);
  std::vector<float> cs(kHeadDim);
  for (int64_t i = 0; i < kHeadDim / 2; ++i) {
    cs[static_cast<size_t>(2 * i)] = 0.6f;
    cs[static_cast<size_t>(2 * i + 1)] = 0.8f;
  }
  double bytes = 0;
  for (auto _ : state) {
    switch (op) {
      case Op::kRmsNorm:
        for (int64_t t = 0; t < kTokens; ++t) ops.rms_norm(x.data() + t * kEmbd, w.data(), y.data() + t * kEmbd, kEmbd, 1e-5f);
        bytes = 2.0 * static_cast<double>(n) * 4;
        break;
      case Op::kSwiGlu:  // keeps values bounded across iterations: gate is rewritten from y each time
        std::copy(y.begin(), y.end(), x.begin());
        ops.swiglu(x.data(), y.data(), n);
        bytes = 5.0 * static_cast<double>(n) * 4;
        break;
      case Op::kSoftmax:
        std::copy(y.begin(), y.end(), x.begin());
        ops.softmax(x.data(), n);
        bytes = 5.0 * static_cast<double>(n) * 4;
        break;
      case Op::kRope:
        for (int64_t h = 0; h < n / kHeadDim; ++h) ops.rope(x.data() + h * kHeadDim, kHeadDim, cs.data(), false);
        bytes = 2.0 * static_cast<double>(n) * 4;
        break;
      case Op::kGelu:
        std::copy(y.begin(), y.end(), x.begin());
        ops.gelu(x.data(), n);
        bytes = 4.0 * static_cast<double>(n) * 4;
        break;
      case Op::kAdd:
        ops.add(x.data(), y.data(), n);
        bytes = 3.0 * static_cast<double>(n) * 4;
        break;
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

// Roofs: memory read on every thread (256 MB stream) and the fp32 FMA loop.
void BM_RoofRead(benchmark::State& state, bool all_threads) {
  ThreadPool& p = pool(all_threads);
  const PeakLoops& peak = kernels().peak;
  const uint64_t per_thread = kStreamBytes / static_cast<uint64_t>(p.size()) / 256 * 256;
  const AlignedBuffer<uint8_t> buf(kStreamBytes);
  for (auto _ : state) {
    p.run([&](int i, int) {
      benchmark::DoNotOptimize(peak.stream_read(buf.data() + per_thread * static_cast<uint64_t>(i),
                                                static_cast<int64_t>(per_thread)));
    });
  }
  state.SetBytesProcessed(static_cast<int64_t>(per_thread) * p.size() * state.iterations());
}

void BM_RoofFma(benchmark::State& state, Isa isa, bool all_threads) {
  ThreadPool& p = pool(all_threads);
  const PeakLoops& peak = kernels_for(isa).peak;
  constexpr int64_t kIterations = 1 << 20;
  for (auto _ : state) p.run([&](int, int) { benchmark::DoNotOptimize(peak.fp32_fma(kIterations)); });
  state.counters["FLOP/s"] = benchmark::Counter(
      peak.fp32_ops_per_iteration * kIterations * p.size() * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  benchmark::RegisterBenchmark("roof/read", BM_RoofRead, true)->UseRealTime();
  benchmark::RegisterBenchmark("roof/read/1thread", BM_RoofRead, false);
  for (const Isa isa : available_isas()) {
    const std::string name(isa_name(isa));
    benchmark::RegisterBenchmark(("roof/fp32_fma/" + name).c_str(), BM_RoofFma, isa, true)->UseRealTime();
    benchmark::RegisterBenchmark(("roof/fp32_fma/" + name + "/1thread").c_str(), BM_RoofFma, isa, false);
  }
  for (const KvFormat type : {KvFormat::kF32, KvFormat::kQ8_0}) {
    for (const Isa isa : available_isas()) {
      for (const int64_t ctx : {512, 2048, 8192}) {
        const std::string name = std::string(kv_type_name(type)) + "/" + std::string(isa_name(isa)) +
                                 "/ctx:" + std::to_string(ctx);
        benchmark::RegisterBenchmark(("attn_decode/" + name).c_str(), BM_AttentionDecode, isa, type, ctx, true)
            ->UseRealTime();
        // One thread, timed by its CPU time: comparable across levels even on a busy machine.
        benchmark::RegisterBenchmark(("attn_decode/" + name + "/1thread").c_str(), BM_AttentionDecode, isa, type,
                                     ctx, false);
        if (isa == Isa::kScalar && ctx > 512) continue;  // minutes per run
        benchmark::RegisterBenchmark(("attn_prefill/" + name).c_str(), BM_AttentionPrefill, isa, type, ctx, true)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("attn_prefill/" + name + "/1thread").c_str(), BM_AttentionPrefill, isa, type,
                                     ctx, false)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  const std::pair<Op, const char*> op_names[] = {{Op::kRmsNorm, "rms_norm"}, {Op::kSwiGlu, "swiglu"},
                                                 {Op::kSoftmax, "softmax"},  {Op::kRope, "rope"},
                                                 {Op::kGelu, "gelu"},        {Op::kAdd, "add"}};
  for (const auto& [op, op_name] : op_names) {
    for (const Isa isa : available_isas()) {
      benchmark::RegisterBenchmark(("ops/" + std::string(op_name) + "/" + std::string(isa_name(isa))).c_str(), BM_Op,
                                   isa, op);
    }
  }
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
