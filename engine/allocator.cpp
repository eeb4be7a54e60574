// Host caching allocator (see allocator.h): a BlockCache behind a mutex, 64-byte aligned blocks from aligned_alloc.
// BlockCache itself (the free lists shared with the device cache of engine/device.cu) is defined here too.
#include "engine/allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>

namespace seg {

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

// ---------------------------------------------------------------- BlockCache
void BlockCache::count_out(size_t b) {
  stats_.current_bytes += static_cast<int64_t>(b);
  if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
}

void* BlockCache::take(size_t b) {
  auto it = free_.find(b);
  if (it == free_.end() || it->second.empty()) return nullptr;
  void* p = it->second.back();
  it->second.pop_back();
  stats_.cached_bytes -= static_cast<int64_t>(b);
  count_out(b);
  return p;
}

void BlockCache::note_os_alloc(size_t b) {
  stats_.os_allocs++;
  count_out(b);
}

void BlockCache::give_back(void* p, size_t b) {
  free_[b].push_back(p);
  stats_.current_bytes -= static_cast<int64_t>(b);
  stats_.cached_bytes += static_cast<int64_t>(b);
}

// ---------------------------------------------------------------- the host cache
namespace {

struct HostCache {
  std::mutex mu;
  BlockCache blocks{64, size_t(1) << 20};  // powers of two from 64 B, then 1 MiB steps
};

HostCache& cache() {
  static HostCache* c = new HostCache();  // leaked on purpose: tensors may be freed during static destruction
  return *c;
}

}  // namespace

void* host_alloc(size_t bytes) {
  HostCache& c = cache();
  const size_t b = c.blocks.bucket(bytes);
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (void* p = c.blocks.take(b)) return p;
  }
  void* p = std::aligned_alloc(64, b);
  if (!p) {
    host_allocator_release_cache();
    p = std::aligned_alloc(64, b);
    if (!p) throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lock(c.mu);
  c.blocks.note_os_alloc(b);
  return p;
}

void host_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.blocks.give_back(ptr, c.blocks.bucket(bytes));
}

AllocatorStats host_allocator_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().blocks.stats();
}

void host_allocator_reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().blocks.reset_peak();
}

void host_allocator_release_cache() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.blocks.release([](void* p) { std::free(p); });
}

}  // namespace seg
