// AlignedBuffer: a move-only, 64-byte-aligned, zero-initialised array for activations, scratch and
// repacked weights.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

#include <sys/mman.h>

#include "base/check.h"

namespace rf {

template <class T>
class AlignedBuffer {
 public:
  static constexpr size_t kAlign = 64;
  // Buffers of at least this size are aligned to it and offered transparent huge pages: weights
  // streamed through 4 KiB pages left decode 10-20 % short of the read bandwidth (a page walk, and
  // a prefetcher restart, every 4 KiB), measured with repacked TinyLlama Q4_0 and F16 at ~80 GB/s.
  static constexpr size_t kHugePage = size_t{2} << 20;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) : size_(n) {
    if (n == 0) return;
    const size_t bytes = (n * sizeof(T) + kAlign - 1) / kAlign * kAlign;
    // Only the start moves to a huge page: the last partial one stays in small pages, so the
    // alignment costs no resident memory.
    const size_t align = bytes >= kHugePage ? kHugePage : kAlign;
    data_.reset(static_cast<T*>(aligned_alloc_any(align, bytes)));
    RF_CHECK(data_ != nullptr);
    if (align == kHugePage) madvise(data_.get(), bytes / kHugePage * kHugePage, MADV_HUGEPAGE);  // a hint
    std::memset(data_.get(), 0, bytes);
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }
  std::span<T> span() { return {data(), size_}; }
  std::span<const T> span() const { return {data(), size_}; }

 private:
  // std::aligned_alloc wants a size that is a multiple of the alignment; posix_memalign does not.
  static void* aligned_alloc_any(size_t align, size_t bytes) {
    void* p = nullptr;
    return posix_memalign(&p, align, bytes) == 0 ? p : nullptr;
  }

  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace rf
