// The per-element Adam update (PyTorch's Adam with L2 weight decay), shared by the CPU loop and the fused CUDA kernel.
#pragma once
#include <cmath>

#include "engine/hd.h"

namespace seg {

// bc1 = 1 − β1^t, bc2 = 1 − β2^t (bias corrections of step t).
// Computed in the parameter's precision with PyTorch's order of operations (denominator sqrt(v)/sqrt(bc2) + eps, step
// lr/bc1): float parameters get float arithmetic, which the CPU loop vectorises (double sqrt and division per element
// made Adam ~10% of a training step) and which is what PyTorch's Adam computes; the step's scalars are loop-invariant.
template <class T>
SEG_HD void adam_update(T& p, T g, T& m, T& v, double lr, double b1, double b2, double eps, double wd, double bc1, double bc2) {
  using std::sqrt;
  const T gd = g + static_cast<T>(wd) * p;
  m = static_cast<T>(b1) * m + static_cast<T>(1 - b1) * gd;
  v = static_cast<T>(b2) * v + static_cast<T>(1 - b2) * gd * gd;
  const T denom = sqrt(v) / static_cast<T>(sqrt(bc2)) + static_cast<T>(eps);
  p = p - static_cast<T>(lr / bc1) * m / denom;
}

}  // namespace seg
