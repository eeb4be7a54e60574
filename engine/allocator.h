// Caching allocators: host memory for the CPU backend (allocator.cpp), device memory for CUDA (engine/device.cu).
// Key decision: freed blocks are kept in size buckets and reused, never returned to the OS during training —
// first-touch page faults cost ~0.6 GB/s on our machines, which made every step several times slower. Both caches are
// one BlockCache (the free lists and the byte counts); each backend adds only its OS calls and its lock.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace seg {

struct AllocatorStats {
  int64_t current_bytes = 0;  // handed out now
  int64_t peak_bytes = 0;     // high-water mark of current_bytes
  int64_t cached_bytes = 0;   // held in the free lists
  int64_t os_allocs = 0;      // calls that reached the OS allocator
};

// Size class of a request, shared by the host and device caches: powers of two from `smallest` up to 1 MiB, then
// multiples of `large_step` (coarse classes keep the free lists short; the waste is bounded by the step).
size_t allocation_bucket(size_t bytes, size_t smallest, size_t large_step);

// The free lists of a caching allocator: blocks grouped by bucket size, and the statistics. Not thread-safe by itself
// (its owner holds a mutex around every call); it never calls the OS.
class BlockCache {
 public:
  BlockCache(size_t smallest, size_t large_step) : smallest_(smallest), large_step_(large_step) {}
  size_t bucket(size_t bytes) const { return allocation_bucket(bytes, smallest_, large_step_); }
  // A cached block of bucket size `b`, now counted as handed out; null when none is free.
  void* take(size_t b);
  // Counts a block of bucket size `b` fresh from the OS as handed out.
  void note_os_alloc(size_t b);
  // A handed-out block of bucket size `b` comes back to the free lists.
  void give_back(void* p, size_t b);
  // Hands every free block to `free_block(p)` (which returns it to the OS) and empties the lists.
  template <class FreeBlock>
  void release(FreeBlock&& free_block) {
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) free_block(p);
      blocks.clear();
    }
    stats_.cached_bytes = 0;
  }
  const AllocatorStats& stats() const { return stats_; }
  void reset_peak() { stats_.peak_bytes = stats_.current_bytes; }

 private:
  void count_out(size_t b);
  size_t smallest_, large_step_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // bucket size -> free blocks
  AllocatorStats stats_;
};

// Host allocator: 64-byte aligned blocks, sizes rounded to buckets (powers of two up to 1 MiB, then 1 MiB steps).
void* host_alloc(size_t bytes);
void host_free(void* ptr, size_t bytes);
AllocatorStats host_allocator_stats();
void host_allocator_reset_peak();
void host_allocator_release_cache();  // gives cached blocks back to the OS (tests, end of a run)

}  // namespace seg
