// CUDA launchers of the fused losses (kernels/fused_losses.cu); formulas in kernels/fused_losses_math.h.
// Every output is preallocated on the device and overwritten; nothing is copied to the host (no synchronisation).
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/fused_losses_math.h"

namespace seg::cuda {
// loss: 0-d in the logits' dtype; beta: 0-d float64 (#zeros/numel), kept for the backward.
SEG_CUDA_API(void balanced_bce_forward(const Tensor& logits, const Tensor& target, Tensor& loss, Tensor& beta))
// dx (shape of logits) from the 0-d upstream gradient g.
SEG_CUDA_API(void balanced_bce_backward(const Tensor& logits, const Tensor& target, const Tensor& beta, const Tensor& g,
                                        Tensor& dx))
// sums: (K, 3) float64 [Σp·g, Σp, Σg] per class over batch and space; loss: 0-d in p's dtype.
SEG_CUDA_API(void dice_forward(const Tensor& p, const Tensor& target, Tensor& sums, Tensor& loss, double eps))
SEG_CUDA_API(void dice_backward(const Tensor& target, const Tensor& sums, const Tensor& g, Tensor& dp, double eps))
SEG_CUDA_API(void log_barrier_forward(const Tensor& z, Tensor& y, double t))
SEG_CUDA_API(void log_barrier_backward(const Tensor& z, const Tensor& g, Tensor& dz, double t))
}  // namespace seg::cuda
