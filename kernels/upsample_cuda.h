// CUDA launchers of the resize family (kernels/upsample.cu). Outputs are preallocated by the caller; the index and
// weight arithmetic is upsample_math.h's (linear_ratio, linear_taps, nearest_source).
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/upsample_math.h"

namespace seg::cuda {
// y (N, C, OD?, OH, OW) from x (N, C, D?, H, W); 2-D tensors have g.D = g.OD = 1.
SEG_CUDA_API(void upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y, const UpsampleGeom& g))
// dx (input shape) is overwritten: the adjoint of the forward applied to dy (a scatter-add, so atomics or a gather).
SEG_CUDA_API(void upsample_backward(UpsampleMode mode, const Tensor& dy, Tensor& dx, const UpsampleGeom& g))
}  // namespace seg::cuda
