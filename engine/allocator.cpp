// Host caching allocator (see allocator.h): a mutex-guarded map from bucket size to a stack of free blocks.
// Key decision: a request the OS refuses (after the cache was given back and the allocation retried) is a seg::Error
// naming the size and the allocator's state, like the device allocator's out-of-memory message, never a bare
// std::bad_alloc; sizes are checked before rounding so a huge request cannot wrap around to a small block.
#include "engine/allocator.h"

#include <cstdlib>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/error.h"

namespace seg {
namespace {

struct HostCache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  AllocatorStats stats;
};

HostCache& cache() {
  static HostCache* c = new HostCache();  // leaked on purpose: tensors may be freed during static destruction
  return *c;
}

size_t bucket(size_t bytes) { return allocation_bucket(bytes, 64, size_t(1) << 20); }

}  // namespace

size_t allocation_bucket(size_t bytes, size_t smallest, size_t large_step) {
  if (bytes == 0) bytes = 1;
  constexpr size_t kMiB = size_t(1) << 20;
  if (bytes <= kMiB) {
    size_t b = smallest;
    while (b < bytes) b <<= 1;
    return b;
  }
  return (bytes + large_step - 1) / large_step * large_step;
}

void* host_alloc(size_t bytes) {
  // The largest request whose bucket (1 MiB steps) cannot overflow size_t; no machine has this much memory anyway.
  constexpr size_t kLargest = std::numeric_limits<size_t>::max() / 2;
  SEG_CHECK(bytes <= kLargest, "host_alloc: cannot allocate ", bytes, " bytes of host memory (more than any address "
            "space holds; a corrupt shape or size?)");
  const size_t b = bucket(bytes);
  HostCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(b);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cached_bytes -= static_cast<int64_t>(b);
      c.stats.current_bytes += static_cast<int64_t>(b);
      if (c.stats.current_bytes > c.stats.peak_bytes) c.stats.peak_bytes = c.stats.current_bytes;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, b);
  if (!p) {
    host_allocator_release_cache();
    p = std::aligned_alloc(64, b);
    if (!p) {
      const AllocatorStats s = host_allocator_stats();
      fail("host_alloc: out of host memory allocating ", b, " bytes (requested ", bytes, "); in use ",
           s.current_bytes, " bytes, peak ", s.peak_bytes, " bytes (the cache was released and the allocation "
           "retried)");
    }
  }
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.os_allocs++;
  c.stats.current_bytes += static_cast<int64_t>(b);
  if (c.stats.current_bytes > c.stats.peak_bytes) c.stats.peak_bytes = c.stats.current_bytes;
  return p;
}

void host_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  const size_t b = bucket(bytes);
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.free_blocks[b].push_back(ptr);
  c.stats.current_bytes -= static_cast<int64_t>(b);
  c.stats.cached_bytes += static_cast<int64_t>(b);
}

AllocatorStats host_allocator_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().stats;
}

void host_allocator_reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().stats.peak_bytes = cache().stats.current_bytes;
}

void host_allocator_release_cache() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [size, blocks] : c.free_blocks) {
    for (void* p : blocks) std::free(p);
    blocks.clear();
  }
  c.stats.cached_bytes = 0;
}

}  // namespace seg
