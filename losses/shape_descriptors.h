// Paper 5's shape descriptors of soft class maps, built from the one-pass raw moments (kernels/moments.h) and the
// Laplacian stencil (kernels/laplacian.h), composed with engine ops so they are differentiable end to end.
//   size     = Σp                                   (N, K)
//   centroid = Σp·x / Σp per axis, order (x, y[, z]) (N, K, sd) — x = column, y = row, z = slice, pixels from 0
//   spread   = sqrt(Σp·(x − c)² / Σp) per axis      (N, K, sd), computed as sqrt(max(μ2/μ0 − c², 0) + eps)
//   length   = pᵀLp (unit-weight 8-neighbour graph in 2-D by default; 26 in 3-D)  (N, K)
// Key decision: eps (default 1e-8) is added to Σp in the divisions and under the square root so that an empty class
// or a single-pixel class gives finite values and gradients; eps = 0 is the exact definition.
#pragma once
#include "engine/tensor.h"

namespace seg {

struct ShapeDescriptors {
  Tensor size, centroid, spread;
};

// p (N, K, H, W) or (N, K, D, H, W).
ShapeDescriptors shape_descriptors(const Tensor& p, double eps = 1e-8);
// connectivity 0 picks the paper's default: 8 (2-D) or 26 (3-D).
Tensor length_descriptor(const Tensor& p, int connectivity = 0);

}  // namespace seg
