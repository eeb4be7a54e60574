// The device layer of a build without the CUDA backend: there is no GPU, and asking for one is a clear error.
#include "engine/device.h"

#ifndef SEG_WITH_CUDA
namespace seg {

bool cuda_available() { return false; }
int cuda_device_index() { return -1; }
std::string cuda_unavailable_reason() { return "this build has no CUDA backend (configured with SEG_CUDA=OFF or no nvcc)"; }
void* cuda_alloc(size_t) { fail("cuda_alloc: ", cuda_unavailable_reason()); }
void cuda_free(void*, size_t) {}
void cuda_memcpy(void*, Device, const void*, Device, size_t) { fail("cuda_memcpy: ", cuda_unavailable_reason()); }
void cuda_memset_zero(void*, size_t) { fail("cuda_memset_zero: ", cuda_unavailable_reason()); }
void cuda_synchronize() {}
AllocatorStats cuda_allocator_stats() { return {}; }
void cuda_allocator_reset_peak() {}

}  // namespace seg
#endif
