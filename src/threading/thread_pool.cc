// ThreadPool implementation: generation-counter dispatch, countdown completion, futex parking.
#include "threading/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/check.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace rf {
namespace {

// How long a waiter spins before parking. One decode layer dispatches ~10 tasks with a few
// microseconds of serial work between them; 100 us keeps workers hot across that without burning
// a core for long once the model is idle.
constexpr std::chrono::nanoseconds kSpinBudget{100'000};
constexpr int kSpinsPerClockRead = 64;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins until ready() or the budget runs out; returns ready()'s last answer. When the pool has more
// threads than CPUs, the thread being waited on may need this CPU, so each round yields it instead.
template <class Ready>
bool spin_until(bool oversubscribed, Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinBudget;
  for (;;) {
    if (oversubscribed) {
      if (ready()) return true;
      std::this_thread::yield();
    } else {
      for (int i = 0; i < kSpinsPerClockRead; ++i) {
        if (ready()) return true;
        cpu_relax();
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// Blocks while *word == expected (the kernel re-checks atomically, so no wake-up is lost).
// Spurious returns are fine: every caller loops on its condition.
void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
#else
  word->wait(expected, std::memory_order_seq_cst);
#endif
}

void futex_wake_all(std::atomic<uint32_t>* word) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
#else
  word->notify_all();
#endif
}

#if defined(__linux__)
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}
#endif

int usable_cpu_count() {
#if defined(__linux__)
  const size_t n = allowed_cpus().size();
  if (n > 0) return static_cast<int>(n);
#endif
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool pinning_requested() {
  const char* v = std::getenv("ROCMFORGE_PIN");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// Best effort: a failed pin or name leaves the thread as it was.
void set_worker_name_and_affinity(std::thread& t, int index, const std::vector<int>& cpus) {
#if defined(__linux__)
  const std::string name = "rf-worker-" + std::to_string(index);
  pthread_setname_np(t.native_handle(), name.substr(0, 15).c_str());
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[static_cast<size_t>(index) % cpus.size()], &set);
  pthread_setaffinity_np(t.native_handle(), sizeof(set), &set);
#else
  (void)t;
  (void)index;
  (void)cpus;
#endif
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  RF_CHECK(n_threads >= 1);
  oversubscribed_ = n_threads_ > usable_cpu_count();
  std::vector<int> pin_cpus;
#if defined(__linux__)
  if (pinning_requested()) pin_cpus = allowed_cpus();
#endif
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) {
    workers_.emplace_back([this, i] { worker_main(i); });
    set_worker_name_and_affinity(workers_.back(), i, pin_cpus);
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);  // published by the generation bump below
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (workers_parked_.load(std::memory_order_seq_cst) != 0) futex_wake_all(&generation_);
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::worker_main(int index) {
  uint32_t seen = 0;
  for (;;) {
    seen = wait_for_generation(seen);
    if (stop_.load(std::memory_order_relaxed)) return;
    task_(index, n_threads_);
    // The last worker out wakes the caller if it parked. seq_cst pairs with caller_parked_'s store
    // (Dekker): either the caller sees pending_ == 0 or this thread sees caller_parked_ == 1.
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_parked_.load(std::memory_order_seq_cst) != 0) {
      futex_wake_all(&pending_);
    }
  }
}

uint32_t ThreadPool::wait_for_generation(uint32_t seen) {
  spin_until(oversubscribed_, [&] { return generation_.load(std::memory_order_acquire) != seen; });
  uint32_t g = generation_.load(std::memory_order_acquire);
  if (g != seen) return g;
  // Announce the park before re-checking, so a dispatcher that bumped the generation after our check
  // necessarily sees workers_parked_ != 0 and issues the wake.
  workers_parked_.fetch_add(1, std::memory_order_seq_cst);
  while ((g = generation_.load(std::memory_order_seq_cst)) == seen) futex_wait(&generation_, seen);
  workers_parked_.fetch_sub(1, std::memory_order_relaxed);
  return g;
}

void ThreadPool::wait_for_workers() {
  spin_until(oversubscribed_, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  if (pending_.load(std::memory_order_acquire) == 0) return;
  caller_parked_.store(1, std::memory_order_seq_cst);
  uint32_t p;
  while ((p = pending_.load(std::memory_order_seq_cst)) != 0) futex_wait(&pending_, p);
  caller_parked_.store(0, std::memory_order_relaxed);
}

void ThreadPool::run(FunctionRef<void(int, int)> fn) {
  RF_CHECK(!in_run_);
  in_run_ = true;
  if (n_threads_ > 1) {
    task_ = fn;
    pending_.store(static_cast<uint32_t>(n_threads_ - 1), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);  // releases task_ and pending_
    if (workers_parked_.load(std::memory_order_seq_cst) != 0) futex_wake_all(&generation_);
  }
  try {
    fn(0, n_threads_);
  } catch (...) {
    // Workers still reference fn's captures: let them finish before the stack unwinds.
    if (n_threads_ > 1) wait_for_workers();
    in_run_ = false;
    throw;
  }
  if (n_threads_ > 1) wait_for_workers();
  in_run_ = false;
}

void ThreadPool::parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t, int)> fn) {
  if (n <= 0) return;
  if (n == 1 || n_threads_ == 1) {
    RF_CHECK(!in_run_);
    fn(0, n, 0);
    return;
  }
  run([n, &fn](int t, int nt) {
    const int64_t q = n / nt;
    const int64_t r = n % nt;
    const int64_t begin = t * q + std::min<int64_t>(t, r);
    const int64_t end = begin + q + (t < r ? 1 : 0);
    if (begin < end) fn(begin, end, t);
  });
}

void ThreadPool::parallel_for_dynamic(int64_t n, int64_t chunk, FunctionRef<void(int64_t, int64_t, int)> fn) {
  RF_CHECK(chunk >= 1);
  if (n <= 0) return;
  chunk = std::min(chunk, n);  // keeps the cursor (at most n + chunk * size()) far from overflow
  next_chunk_.store(0, std::memory_order_relaxed);  // published by run()'s generation bump
  run([this, n, chunk, &fn](int t, int) {
    for (;;) {
      const int64_t begin = next_chunk_.fetch_add(chunk, std::memory_order_relaxed);
      if (begin >= n) return;
      fn(begin, std::min(n, begin + chunk), t);
    }
  });
}

}  // namespace rf
