// CUDA launchers of the Laplacian quadratic form (kernels/laplacian.cu); stencils in kernels/laplacian_math.h.
// p (N, K, [D,] H, W) with D = 1 for 2-D; q (N, K). Outputs preallocated, overwritten.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/laplacian_math.h"

namespace seg::cuda {
SEG_CUDA_API(void laplacian_forward(const Tensor& p, Tensor& q, int connectivity))
// dp = 2·dq[n, k]·(Lp) per map.
SEG_CUDA_API(void laplacian_backward(const Tensor& p, const Tensor& dq, Tensor& dp, int connectivity))
}  // namespace seg::cuda
