// CUDA launchers of the moment reductions (kernels/moments.cu); formulas in kernels/moments_math.h.
// sd = 2: p (N, K, H, W), m (N, K, 6); sd = 3: p (N, K, D, H, W), m (N, K, 10). Outputs preallocated, overwritten.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/moments_math.h"

namespace seg::cuda {
SEG_CUDA_API(void moments_forward(const Tensor& p, Tensor& m, int sd))
// dp (shape of p) from dm (shape of m): dp(x, y, z) = Σ_m dm[m]·basis_m(x, y, z).
SEG_CUDA_API(void moments_backward(const Tensor& dm, Tensor& dp, int sd))
}  // namespace seg::cuda
