// Caching allocators: host memory for the CPU backend, device memory for CUDA (engine/cuda_allocator.*).
// Key decision: freed blocks are kept in size buckets and reused, never returned to the OS during training —
// first-touch page faults cost ~0.6 GB/s on our machines, which made every step several times slower.
#pragma once
#include <cstddef>
#include <cstdint>

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

// Host allocator: 64-byte aligned blocks, sizes rounded to buckets (powers of two up to 1 MiB, then 1 MiB steps).
void* host_alloc(size_t bytes);
void host_free(void* ptr, size_t bytes);
AllocatorStats host_allocator_stats();
void host_allocator_reset_peak();
void host_allocator_release_cache();  // gives cached blocks back to the OS (tests, end of a run)

}  // namespace seg
