// Normalisation layers (differentiable w.r.t. input, weight and bias), PyTorch semantics, for inputs (N, C, ...):
// batch_norm (per channel over N and space) and group_norm (per sample over groups of C/G channels and space).
// weight and bias are (C) or undefined (affine off). The arithmetic is in norm_math.h.
#pragma once
#include "engine/tensor.h"
#include "kernels/norm_math.h"

namespace seg {

// training: normalises with the batch statistics and, when running_mean/running_var are defined, updates them in
// place (running_var gets the unbiased variance, as PyTorch). Otherwise normalises with the running statistics, which
// must then be defined. running_mean/running_var: (C), same dtype and device as x, never differentiated.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// C must be divisible by num_groups.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  double eps = 1e-5);

}  // namespace seg
