// The per-element Adam update (PyTorch's Adam with L2 weight decay), shared by the CPU loop and the fused CUDA kernel.
#pragma once
#include <cmath>

#include "engine/hd.h"

namespace seg {

// bc1 = 1 − β1^t, bc2 = 1 − β2^t (bias corrections of step t).
template <class T>
SEG_HD void adam_update(T& p, T g, T& m, T& v, double lr, double b1, double b2, double eps, double wd, double bc1, double bc2) {
  const double gd = static_cast<double>(g) + wd * static_cast<double>(p);
  const double md = b1 * static_cast<double>(m) + (1 - b1) * gd;
  const double vd = b2 * static_cast<double>(v) + (1 - b2) * gd * gd;
  m = static_cast<T>(md);
  v = static_cast<T>(vd);
  const double denom = ::sqrt(vd / bc2) + eps;
  p = static_cast<T>(static_cast<double>(p) - lr * (md / bc1) / denom);
}

}  // namespace seg
