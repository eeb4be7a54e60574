// Small helpers shared by the kernels/*.cu files: launch shapes for grid-stride loops, a CUB block sum, and the
// NVTX range + dtype dispatch every launcher starts with.
// Key decision: every elementwise kernel is a grid-stride loop over int64 indices, launched with at most
// 32 blocks per SM, so one launch shape serves tensors of any size (a batch of volumes passes 2^31 elements).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cub/block/block_reduce.cuh>

#include "engine/cuda_context.h"
#include "engine/profiling.h"
#include "engine/tensor.h"

namespace seg::cuda {

constexpr int kThreads = 256;

// Blocks of a grid-stride loop over n items (n > 0).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t want = (n + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(sm_count()) * 32;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(want, cap)));
}

// Blocks for one-block-per-item kernels (gridDim.x limit 2^31 − 1; we loop beyond 2^20 items anyway).
inline unsigned grid_items(int64_t items) { return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(items, 1 << 20))); }

#define SEG_GRID_STRIDE(i, n)                                                                      \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);           \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Sum of v over the block (kThreads threads); the result is valid in thread 0 only. `Tmp` is reused, so calls in a
// row need __syncthreads() between them (done here at entry).
using BlockSum = cub::BlockReduce<double, kThreads>;
__device__ __forceinline__ double block_sum(double v, typename BlockSum::TempStorage& tmp) {
  __syncthreads();
  return BlockSum(tmp).Sum(v);
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <class T>
T* mut_ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace seg::cuda
