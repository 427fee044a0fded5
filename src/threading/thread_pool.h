// ThreadPool: persistent workers for fork-join kernels; allocation- and lock-free dispatch, spin-then-park.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "threading/function_ref.h"

namespace rf {

// n_threads counts the calling thread: the pool owns n_threads - 1 workers, and run() executes
// index 0 on the caller. A dispatch publishes the task and bumps a generation counter; workers spin on
// it briefly (they stay hot between the ~10 dispatches of one layer) and then park on a futex, so an
// idle pool costs no CPU. Completion is a countdown with the same spin-then-park shape.
//
// Contract: one dispatching thread at a time, and no dispatch from inside a task (nested run() would
// deadlock; it is caught by RF_CHECK). A task that throws on a worker terminates
// the process; one that throws on the caller is rethrown after the workers finish.
// ROCMFORGE_PIN=1 pins worker i to the i-th allowed CPU (failures ignored); the caller is not pinned.
class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) once on every thread (caller is index 0); returns when all are done.
  void run(FunctionRef<void(int, int)> fn);

  // Static split of [0, n) into size() contiguous ranges whose lengths differ by at most one:
  // fn(begin, end, thread_index) for each non-empty range. n <= 0 returns at once.
  void parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t, int)> fn);

  // Dynamic split for uneven work: threads claim [k*chunk, (k+1)*chunk) ∩ [0, n) from a shared counter
  // until it runs out; fn(begin, end, thread_index) per claimed chunk. chunk >= 1.
  void parallel_for_dynamic(int64_t n, int64_t chunk, FunctionRef<void(int64_t, int64_t, int)> fn);

 private:
  static constexpr size_t kCacheLine = 64;
  static constexpr auto kNoTask = [](int, int) {};

  void worker_main(int index);
  uint32_t wait_for_generation(uint32_t seen);  // returns the new generation
  void wait_for_workers();

  const int n_threads_;
  bool oversubscribed_;  // more threads than CPUs: waiters yield rather than spin
  bool in_run_ = false;  // caller-thread guard against nested dispatch
  FunctionRef<void(int, int)> task_{kNoTask};  // written before the generation release
  std::atomic<bool> stop_{false};

  alignas(kCacheLine) std::atomic<uint32_t> generation_{0};  // futex word the workers park on
  std::atomic<uint32_t> workers_parked_{0};
  alignas(kCacheLine) std::atomic<uint32_t> pending_{0};  // workers still running; futex word for the caller
  std::atomic<uint32_t> caller_parked_{0};
  alignas(kCacheLine) std::atomic<int64_t> next_chunk_{0};  // parallel_for_dynamic's shared cursor

  std::vector<std::thread> workers_;
};

}  // namespace rf
