// The BLAS path of cpu::matmul: f16 weights widened in panels by the pool, and the per-shape chooser.
#include "cpu/blas.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <mutex>

#include "base/check.h"
#include "quant/dequantize.h"

namespace rf::cpu {
namespace {

// Rows of one f16 panel at most: enough for the library to run at full speed, few enough that the
// widened panel (rows x cols floats) stays in the last-level cache until the product reads it.
constexpr int64_t kMaxPanelRows = 512;
constexpr int kMaxCandidates = 4;  // ours + the three known libraries
// Distinct keys the chooser remembers: a model has a handful of matrix shapes, times a few token
// widths (32-63, 64-127, ... tokens), times the models a process keeps loaded.
constexpr size_t kTableSize = 256;

struct ChoiceKey {
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  int width = 0;  // std::bit_width(n_tokens)
  bool operator==(const ChoiceKey&) const = default;
};

ChoiceKey key_of(DType type, int64_t rows, int64_t cols, int64_t n_tokens) {
  return {type, rows, cols, static_cast<int>(std::bit_width(static_cast<uint64_t>(n_tokens)))};
}

struct ChoiceEntry {
  ChoiceKey key;
  int claimed = 0;   // candidates handed out to be measured (in order 0, 1, ...)
  int measured = 0;  // of those, timed and recorded
  int chosen = -1;   // the fastest, once all are measured
  double seconds_per_token[kMaxCandidates] = {};
};

// A fixed table behind one mutex: a look-up is a short linear scan, made once per product of
// tens of milliseconds, never inside a parallel region, and it never allocates.
class Chooser {
 public:
  BlasPick pick(const ChoiceKey& key, int n_candidates) {
    const std::lock_guard<std::mutex> lock(mu_);
    ChoiceEntry* e = find(key);
    if (e == nullptr) {
      if (used_ == kTableSize) return {};
      e = &entries_[used_++];
      *e = ChoiceEntry{};
      e->key = key;
    }
    if (e->chosen >= 0) return {e->chosen, -1};
    if (e->claimed < n_candidates) return {e->claimed++, static_cast<int>(e - entries_)};
    // Every candidate is being measured (by concurrent sessions): the best one timed so far.
    return {fastest(*e), -1};
  }

  void record(const BlasPick& pick, int64_t n_tokens, double seconds, int n_candidates) {
    RF_CHECK(pick.slot >= 0 && static_cast<size_t>(pick.slot) < used_);
    const std::lock_guard<std::mutex> lock(mu_);
    ChoiceEntry& e = entries_[pick.slot];
    e.seconds_per_token[pick.candidate] = seconds / static_cast<double>(n_tokens);
    if (++e.measured == n_candidates) e.chosen = fastest(e);
  }

  // {chosen candidate or -1, candidates measured}; {-1, 0} for an unknown key.
  std::pair<int, int> state(const ChoiceKey& key) {
    const std::lock_guard<std::mutex> lock(mu_);
    const ChoiceEntry* e = find(key);
    return e == nullptr ? std::pair{-1, 0} : std::pair{e->chosen, e->measured};
  }

 private:
  ChoiceEntry* find(const ChoiceKey& key) {
    for (size_t i = 0; i < used_; ++i) {
      if (entries_[i].key == key) return &entries_[i];
    }
    return nullptr;
  }

  // The fastest recorded candidate (a time of 0 is not recorded yet); ours when none is.
  static int fastest(const ChoiceEntry& e) {
    int best = 0;
    for (int c = 0; c < e.claimed; ++c) {
      const double t = e.seconds_per_token[c];
      if (t > 0 && (e.seconds_per_token[best] <= 0 || t < e.seconds_per_token[best])) best = c;
    }
    return best;
  }

  std::mutex mu_;
  ChoiceEntry entries_[kTableSize];
  size_t used_ = 0;
};

Chooser& chooser() {
  static Chooser c;
  return c;
}

int n_candidates() {
  const size_t n = blas_backends().size();
  RF_CHECK(n < kMaxCandidates);
  return 1 + static_cast<int>(n);
}

}  // namespace

void blas_matmul(ThreadPool& pool, const BlasBackend& backend, const MatrixView& w, const float* x,
                 int64_t n_tokens, float* y, std::span<uint8_t> scratch) {
  SgemmArgs g{.m = n_tokens, .n = w.rows, .k = w.cols, .a = x, .lda = w.cols, .c = y, .ldc = w.rows};
  if (w.type == DType::kF32) {
    RF_CHECK(w.row_bytes % sizeof(float) == 0 && reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0);
    g.b = reinterpret_cast<const float*>(w.data);
    g.ldb = static_cast<int64_t>(w.row_bytes / sizeof(float));
    backend.sgemm(pool.size(), g);
    return;
  }
  RF_CHECK(w.type == DType::kF16 && w.row_bytes % 2 == 0 && reinterpret_cast<uintptr_t>(w.data) % 2 == 0);
  // panel: (rows of this panel, cols) floats in the scratch.
  const auto fit = static_cast<int64_t>(scratch.size() / (static_cast<uint64_t>(w.cols) * sizeof(float)));
  const int64_t panel_rows = std::min({w.rows, fit, kMaxPanelRows});
  RF_CHECK(panel_rows >= std::min(w.rows, kBlasPanelRows));
  RF_CHECK(reinterpret_cast<uintptr_t>(scratch.data()) % alignof(float) == 0);
  float* panel = reinterpret_cast<float*>(scratch.data());
  for (int64_t r0 = 0; r0 < w.rows; r0 += panel_rows) {
    const int64_t n = std::min(panel_rows, w.rows - r0);
    pool.parallel_for(n, [&](int64_t begin, int64_t end, int) {
      for (int64_t r = begin; r < end; ++r) {
        const uint8_t* row = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes;
        dequantize_row(DType::kF16, row, panel + r * w.cols, w.cols);
      }
    });
    g.n = n;
    g.b = panel;
    g.ldb = w.cols;
    g.c = y + r0;
    backend.sgemm(pool.size(), g);
  }
}

bool blas_applies(const MatrixView& w, int64_t n_tokens) {
  return (w.type == DType::kF32 || w.type == DType::kF16) && w.layout == MatrixLayout::kRows &&
         n_tokens >= kMinBlasTokens && !blas_backends().empty();
}

BlasPick blas_pick(const MatrixView& w, int64_t n_tokens) {
  RF_CHECK(n_tokens > 0);
  return chooser().pick(key_of(w.type, w.rows, w.cols, n_tokens), n_candidates());
}

void blas_record(const BlasPick& pick, int64_t n_tokens, double seconds) {
  chooser().record(pick, n_tokens, seconds, n_candidates());
}

BlasChoice blas_choice(DType type, int64_t rows, int64_t cols, int64_t n_tokens) {
  const auto [chosen, measured] = chooser().state(key_of(type, rows, cols, n_tokens));
  if (chosen < 0) return {"", measured};
  if (chosen == 0) return {"ours", measured};
  return {blas_backends()[static_cast<size_t>(chosen - 1)].name, measured};
}

}  // namespace rf::cpu
