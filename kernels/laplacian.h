// The quadratic form pᵀLp of the grid graph's Laplacian per (sample, class) map (paper 5's length descriptor), as a
// stencil, never a matrix; differentiable w.r.t. p (gradient 2·Lp). Definition: docs/opcheck-format.md.
#pragma once
#include "engine/tensor.h"

namespace seg {

// p (N, K, H, W) with connectivity 4 or 8, or (N, K, D, H, W) with 6 or 26 → (N, K); double accumulation.
Tensor laplacian_quadratic(const Tensor& p, int connectivity);

}  // namespace seg
