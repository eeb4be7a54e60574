// CUDA launchers of the reduction family (kernels/reduce.cu).
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"

namespace seg::cuda {
// y has x's shape with reduced dims set to 1 (keepdim layout); factor scales the result (1/count for mean).
SEG_CUDA_API(void reduce_sum(const Tensor& x, Tensor& y, double factor))
SEG_CUDA_API(void expand_to(const Tensor& g, Tensor& out, double factor))
}  // namespace seg::cuda
