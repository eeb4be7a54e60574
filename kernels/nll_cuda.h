// CUDA launchers of the NLL family (kernels/nll.cu). (N, C, S) view: S = spatial size.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"

namespace seg::cuda {
// per[n·S+s] = −w[t]·input[n,t,s] (0 where ignored); wsum = Σ w[t] over non-ignored (a 1-element tensor).
// Sets *bad_target to a target value outside [0, C) other than ignore_index (or leaves it at INT64_MIN).
SEG_CUDA_API(void nll_forward(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                              Tensor& per, Tensor& wsum, int64_t* bad_target))
// dinput[n,t,s] = −w[t]·g_scale[n·S+s or 0]·factor (zero elsewhere).
SEG_CUDA_API(void nll_backward(const Tensor& target, const Tensor& weight, int64_t ignore_index, const Tensor& g,
                               bool g_per_element, double factor, Tensor& dinput))
}  // namespace seg::cuda
