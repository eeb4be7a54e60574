// Checks for CUDA runtime calls and kernel launches: SEG_CUDA_CHECK(call, "op") and SEG_LAUNCH_CHECK("op") throw a
// seg::Error naming the op, the failed call, CUDA's message, the file and the line.
// Key decision: launches are checked with cudaGetLastError right after the <<<>>> (configuration errors surface
// there); errors inside a kernel surface at the next synchronising call, which is checked the same way.
#pragma once
#include <cuda_runtime.h>

#include "engine/error.h"

namespace seg::cuda {

[[noreturn]] inline void check_failed(const char* op, const char* call, const char* what, const char* file, int line) {
  fail(op, ": CUDA error: ", what, " (in ", call, " at ", file, ":", line, ")");
}

}  // namespace seg::cuda

#define SEG_CUDA_CHECK(call, op)                                                                         \
  do {                                                                                                   \
    const cudaError_t seg_err_ = (call);                                                                 \
    if (seg_err_ != cudaSuccess) ::seg::cuda::check_failed((op), #call, cudaGetErrorString(seg_err_), __FILE__, __LINE__); \
  } while (0)

#define SEG_LAUNCH_CHECK(op) SEG_CUDA_CHECK(cudaGetLastError(), op)
