// CUDA launchers of the normalisation family (kernels/norm.cu). Outputs are preallocated by the caller; optional
// tensors (weight, bias, running stats, gradients not needed) are passed undefined. mean/invstd are what the forward
// saves for the backward: (C) for batch norm, (N, G) for group norm, in x's dtype. The formulas are norm_math.h's.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/norm_math.h"

namespace seg::cuda {
// Batch statistics → y, mean, invstd; running_mean/running_var (if defined) updated in place, unbiased variance.
SEG_CUDA_API(void batch_norm_forward_train(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& y,
                                           Tensor& mean, Tensor& invstd, Tensor& running_mean, Tensor& running_var,
                                           double momentum, double eps))
// Running statistics → y; mean = running_mean and invstd = 1/sqrt(running_var + eps) are written for the backward.
SEG_CUDA_API(void batch_norm_forward_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                          const Tensor& running_mean, const Tensor& running_var, Tensor& y,
                                          Tensor& mean, Tensor& invstd, double eps))
// training selects the batch-statistics backward (k, c ≠ 0); dx, dweight, dbias may each be undefined.
SEG_CUDA_API(void batch_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean,
                                      const Tensor& invstd, bool training, Tensor& dx, Tensor& dweight, Tensor& dbias))
SEG_CUDA_API(void group_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t num_groups,
                                     double eps, Tensor& y, Tensor& mean, Tensor& invstd))
SEG_CUDA_API(void group_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean,
                                      const Tensor& invstd, int64_t num_groups, Tensor& dx, Tensor& dweight,
                                      Tensor& dbias))
}  // namespace seg::cuda
