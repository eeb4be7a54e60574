// CUDA launchers of the dropout family (kernels/dropout.cu). Outputs are preallocated by the caller; the mask is
// dropout_factor(seed, offset, i, p) from dropout_math.h.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/dropout_math.h"

namespace seg::cuda {
// y[i] = x[i] · dropout_factor(seed, offset, i, p). The backward calls it again on dy with the same (seed, offset).
SEG_CUDA_API(void dropout_apply(const Tensor& x, Tensor& y, uint64_t seed, uint64_t offset, double p))
// factors[i] = dropout_factor(seed, offset, i, p) for the N·C planes (factors: (N·C), x's dtype).
SEG_CUDA_API(void dropout_channel_factors(Tensor& factors, uint64_t seed, uint64_t offset, double p))
// y = x · factors[plane] with planes of x.numel()/factors.numel() contiguous values (forward and backward).
SEG_CUDA_API(void scale_planes(const Tensor& x, const Tensor& factors, Tensor& y))
}  // namespace seg::cuda
