// CUDA launchers of the softmax family (kernels/softmax.cu). The tensor is viewed as (outer, n, inner) around dim.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"

namespace seg::cuda {
SEG_CUDA_API(void softmax_forward(const Tensor& x, Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log))
// dx from the saved output y and the gradient g.
SEG_CUDA_API(void softmax_backward(const Tensor& y, const Tensor& g, Tensor& dx, int64_t outer, int64_t n, int64_t inner, bool log))
}  // namespace seg::cuda
