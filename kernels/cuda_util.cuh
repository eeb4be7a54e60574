// Small helpers shared by the kernels/*.cu files: launch shapes for grid-stride loops and a CUB block sum. The host
// side of a launcher uses kernels/op_util.h as the CPU files do (opt_data, ncs_of, broadcast_strides).
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
#include "kernels/op_util.h"

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

// Launch shape of a chunked per-plane reduction: blockIdx.y is the plane (at most 65535), blockIdx.x a chunk of
// `chunk` elements of it; about 8 blocks per SM in total, at least 4 elements per thread. planes > 0.
struct PlaneChunks {
  dim3 grid;
  int64_t chunk;
};
inline PlaneChunks plane_chunks(int64_t planes, int64_t S, const char* op) {
  SEG_CHECK(planes <= 65535, op, ": at most 65535 (n, k) planes, got ", planes);
  const int64_t want = std::max<int64_t>(1, static_cast<int64_t>(sm_count()) * 8 / planes);
  const int64_t chunk = std::max<int64_t>(kThreads * 4, (S + want - 1) / want);
  return {dim3(static_cast<unsigned>(std::max<int64_t>(1, (S + chunk - 1) / chunk)), static_cast<unsigned>(planes)),
          chunk};
}

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

}  // namespace seg::cuda
