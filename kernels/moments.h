// Raw moments up to order 2 of each class map (paper 5's shape descriptors are built on them), one pass over the
// tensor with double accumulation; differentiable w.r.t. p. Definitions: docs/opcheck-format.md and
// kernels/moments_math.h.
#pragma once
#include "engine/tensor.h"

namespace seg {

Tensor moments2d(const Tensor& p);  // (N, K, H, W) → (N, K, 6)
Tensor moments3d(const Tensor& p);  // (N, K, D, H, W) → (N, K, 10)

}  // namespace seg
