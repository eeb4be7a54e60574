// The device layer: what the engine asks of a CUDA device (memory, copies, synchronisation). Implemented in
// engine/device.cu with a caching device allocator; in a build without CUDA, engine/device_nocuda.cpp answers
// "no GPU" and every allocation request is an error naming the reason.
// Key decision: any failure while probing (no driver, "driver version is insufficient", no device) means "no GPU",
// so tests and apps fall back to the CPU with the reason instead of crashing.
#pragma once
#include <cstddef>
#include <string>

#include "engine/allocator.h"
#include "engine/tensor.h"

namespace seg {

bool cuda_available();                 // never throws
std::string cuda_unavailable_reason();  // empty when available
// The device this process uses (-1 without one): SEG_CUDA_DEVICE, else LOCAL_RANK modulo the devices (one GPU per
// rank of a distributed job), else 0. CUDA's current device is per thread: a thread of ours that calls CUDA (the
// communication thread) sets it to this first.
int cuda_device_index();
void* cuda_alloc(size_t bytes);         // from the caching device allocator
void cuda_free(void* ptr, size_t bytes);
void cuda_memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void cuda_memset_zero(void* ptr, size_t bytes);
void cuda_synchronize();
AllocatorStats cuda_allocator_stats();
void cuda_allocator_reset_peak();

// The device apps use by default: CUDA when a GPU is present, else the CPU. `name` is "cpu", "cuda" or "auto".
Device parse_device(const std::string& name);

}  // namespace seg
