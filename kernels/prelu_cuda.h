// CUDA launchers of PReLU (kernels/prelu.cu). Outputs are preallocated by the caller. The per-element formulas are
// prelu_math.h's, with the slope w[c] (c = (i / S) % C, S = the plane size; one slope when weight has one element);
// the weight gradient sums prelu_dweight_term per slope.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/prelu_math.h"

namespace seg::cuda {
SEG_CUDA_API(void prelu_forward(const Tensor& x, const Tensor& weight, Tensor& y))
// dx and dweight may each be undefined (not needed); dweight is overwritten.
SEG_CUDA_API(void prelu_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor& dx, Tensor& dweight))
}  // namespace seg::cuda
