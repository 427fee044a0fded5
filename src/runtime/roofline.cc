// Roofline measurement: timed flat-out loops from the kernel table, run on every pool thread.
#include "runtime/roofline.h"

#include <algorithm>
#include <cstring>

#include "base/aligned_buffer.h"
#include "base/timer.h"

namespace rf {
namespace {

constexpr int kRepetitions = 5;
constexpr int64_t kBufferBytes = int64_t{512} << 20;  // far beyond any L3

// ops / second of `loop` on every thread, best of kRepetitions.
double peak_rate(ThreadPool& pool, float (*loop)(int64_t), double ops_per_iteration) {
  if (loop == nullptr) return 0.0;
  constexpr int64_t kIterations = 2'000'000;
  volatile float sink = 0;
  double best = 0;
  for (int rep = 0; rep < kRepetitions; ++rep) {
    const double start = now_seconds();
    pool.run([&](int, int) { sink = sink + loop(kIterations); });
    const double seconds = now_seconds() - start;
    best = std::max(best, ops_per_iteration * static_cast<double>(kIterations) * pool.size() / seconds);
  }
  return best;
}

double read_bandwidth(ThreadPool& pool, const cpu::KernelTable& kernels) {
  AlignedBuffer<uint8_t> buffer(static_cast<size_t>(kBufferBytes));
  // First touch by the threads that read, so pages land on their NUMA nodes.
  pool.parallel_for(kBufferBytes / 4096, [&](int64_t begin, int64_t end, int) {
    std::memset(buffer.data() + begin * 4096, 1, static_cast<size_t>(end - begin) * 4096);
  });
  volatile float sink = 0;
  double best = 0;
  for (int rep = 0; rep < kRepetitions; ++rep) {
    const double start = now_seconds();
    pool.parallel_for(kBufferBytes / 4096, [&](int64_t begin, int64_t end, int) {
      sink = sink + kernels.peak.stream_read(buffer.data() + begin * 4096, (end - begin) * 4096);
    });
    best = std::max(best, static_cast<double>(kBufferBytes) / (now_seconds() - start));
  }
  return best;
}

}  // namespace

Roofline measure_roofline(ThreadPool& pool, const cpu::KernelTable& kernels) {
  Roofline r;
  r.read_gbps = read_bandwidth(pool, kernels) / 1e9;
  r.fp32_gflops = peak_rate(pool, kernels.peak.fp32_fma, kernels.peak.fp32_ops_per_iteration) / 1e9;
  r.int8_gops = peak_rate(pool, kernels.peak.int8_dot, kernels.peak.int8_ops_per_iteration) / 1e9;
  r.bf16_gflops = peak_rate(pool, kernels.peak.bf16_dot, kernels.peak.bf16_ops_per_iteration) / 1e9;
  return r;
}

}  // namespace rf
