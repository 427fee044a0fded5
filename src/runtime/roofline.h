// Measures this machine's roofs in the current run: memory read bandwidth and peak compute rates.
#pragma once

#include "cpu/kernels.h"
#include "threading/thread_pool.h"

namespace rf {

struct Roofline {
  double read_gbps = 0;     // GB/s (1e9 bytes) streaming a buffer far larger than the caches
  double fp32_gflops = 0;   // fp32 FMA, counted as 2 ops each
  double int8_gops = 0;     // int8 dot products (VNNI/SDOT), 2 ops per product
  double bf16_gflops = 0;   // bf16 dot products; 0 where the CPU has none
};

// Best of a few repetitions on all threads of `pool`; takes about a second.
Roofline measure_roofline(ThreadPool& pool, const cpu::KernelTable& kernels);

}  // namespace rf
