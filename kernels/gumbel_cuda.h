// CUDA launchers of the Gumbel family (kernels/gumbel.cu); noise formula in kernels/gumbel_math.h.
#pragma once
#include <cstdint>

#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/gumbel_math.h"

namespace seg::cuda {
// out[i] = gumbel_at(seed, offset, i) for every element of out (float32 or float64).
SEG_CUDA_API(void gumbel_noise(Tensor& out, uint64_t seed, uint64_t offset))
// x viewed as (outer, size, inner), reduced along size: y = 1 at the first maximum, else 0 (y preallocated).
SEG_CUDA_API(void one_hot_argmax(const Tensor& x, Tensor& y, int64_t outer, int64_t size, int64_t inner))
}  // namespace seg::cuda
