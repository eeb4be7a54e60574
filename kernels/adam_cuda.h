// CUDA launcher of the fused Adam update (kernels/adam.cu): one kernel per parameter tensor, math in adam_math.h.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"

namespace seg::cuda {
SEG_CUDA_API(void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                            double eps, double weight_decay, int64_t step))
}  // namespace seg::cuda
