// CUDA launchers of the pooling family (kernels/pool.cu). Outputs are preallocated by the caller; the window
// arithmetic is max_pool_window in pool_math.h.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/pool_math.h"

namespace seg::cuda {
// y, indices: (N, C, OD?, OH, OW) as g describes.
SEG_CUDA_API(void max_pool_forward(const Tensor& x, Tensor& y, Tensor& indices, const PoolGeom& g))
// dx (N, C, input spatial): zeroed, then dx[plane][indices] += dy (windows may overlap when kernel > stride).
SEG_CUDA_API(void max_pool_backward(const Tensor& dy, const Tensor& indices, Tensor& dx, const PoolGeom& g))
// y (N, C, output spatial): zeroed, then y[plane][indices] = x. Fails naming max_unpool on an index out of range.
SEG_CUDA_API(void max_unpool_forward(const Tensor& x, const Tensor& indices, Tensor& y))
// dx[i] = dy[plane][indices[i]].
SEG_CUDA_API(void max_unpool_backward(const Tensor& dy, const Tensor& indices, Tensor& dx))
}  // namespace seg::cuda
