// The caching allocators' shared free lists (engine/allocator.h BlockCache) and the host cache built on them: bucket
// sizes, reuse of a freed block, the byte counts, releasing the cache.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/allocator.h"

using namespace seg;

TEST(Allocator, BucketsArePowersOfTwoThenSteps) {
  EXPECT_EQ(allocation_bucket(0, 64, 1 << 20), 64u);
  EXPECT_EQ(allocation_bucket(65, 64, 1 << 20), 128u);
  EXPECT_EQ(allocation_bucket(1 << 20, 64, 1 << 20), size_t(1) << 20);
  EXPECT_EQ(allocation_bucket((1 << 20) + 1, 64, 1 << 20), size_t(2) << 20);
  EXPECT_EQ(allocation_bucket((3 << 20) + 5, 512, 2 << 20), size_t(4) << 20);
}

TEST(Allocator, BlockCacheReusesAndCounts) {
  BlockCache c(64, 1 << 20);
  const size_t b = c.bucket(100);
  EXPECT_EQ(b, 128u);
  EXPECT_EQ(c.take(b), nullptr);  // nothing cached yet
  int block_a = 0, block_b = 0;   // stand-ins: the cache never dereferences its blocks
  c.note_os_alloc(b);
  c.note_os_alloc(b);
  EXPECT_EQ(c.stats().current_bytes, 256);
  EXPECT_EQ(c.stats().peak_bytes, 256);
  EXPECT_EQ(c.stats().os_allocs, 2);
  c.give_back(&block_a, b);
  c.give_back(&block_b, b);
  EXPECT_EQ(c.stats().current_bytes, 0);
  EXPECT_EQ(c.stats().cached_bytes, 256);
  EXPECT_EQ(c.take(c.bucket(1000)), nullptr);  // another bucket
  EXPECT_EQ(c.take(b), &block_b);              // last freed, first reused
  EXPECT_EQ(c.stats().cached_bytes, 128);
  EXPECT_EQ(c.stats().current_bytes, 128);
  EXPECT_EQ(c.stats().os_allocs, 2);
  c.reset_peak();
  EXPECT_EQ(c.stats().peak_bytes, 128);
  int released = 0;
  c.release([&](void* p) {
    EXPECT_EQ(p, &block_a);
    ++released;
  });
  EXPECT_EQ(released, 1);
  EXPECT_EQ(c.stats().cached_bytes, 0);
  EXPECT_EQ(c.take(b), nullptr);
}

TEST(Allocator, HostCacheReusesFreedBlocks) {
  host_allocator_release_cache();
  const AllocatorStats s0 = host_allocator_stats();
  void* p = host_alloc(3000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  const AllocatorStats s1 = host_allocator_stats();
  EXPECT_EQ(s1.os_allocs, s0.os_allocs + 1);
  EXPECT_EQ(s1.current_bytes, s0.current_bytes + 4096);
  host_free(p, 3000);
  void* q = host_alloc(4000);  // same bucket: the freed block comes back, no OS call
  EXPECT_EQ(q, p);
  EXPECT_EQ(host_allocator_stats().os_allocs, s1.os_allocs);
  host_free(q, 4000);
  EXPECT_GE(host_allocator_stats().cached_bytes, 4096);
  host_allocator_release_cache();
  EXPECT_EQ(host_allocator_stats().cached_bytes, 0);
}
