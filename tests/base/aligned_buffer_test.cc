// AlignedBuffer: zeroed, 64-byte aligned; large buffers aligned to a huge page.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "base/aligned_buffer.h"

namespace rf {
namespace {

TEST(AlignedBuffer, SmallBuffersAreZeroedAndCacheLineAligned) {
  for (const size_t n : {1, 3, 17, 1000}) {
    AlignedBuffer<float> b(n);
    ASSERT_EQ(b.size(), n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % AlignedBuffer<float>::kAlign, 0u);
    EXPECT_TRUE(std::all_of(b.span().begin(), b.span().end(), [](float v) { return v == 0.0f; }));
  }
}

TEST(AlignedBuffer, LargeBuffersStartOnAHugePageBoundary) {
  // Just over two huge pages: the tail page is rounded up, the data stays zeroed and writable.
  const size_t n = 2 * AlignedBuffer<uint8_t>::kHugePage + 77;
  AlignedBuffer<uint8_t> b(n);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % AlignedBuffer<uint8_t>::kHugePage, 0u);
  EXPECT_EQ(b[0], 0);
  EXPECT_EQ(b[n - 1], 0);
  b[n - 1] = 5;
  EXPECT_EQ(b[n - 1], 5);
  AlignedBuffer<uint8_t> moved = std::move(b);
  EXPECT_EQ(moved[n - 1], 5);
}

}  // namespace
}  // namespace rf
