// The per-element and per-group arithmetic of batch norm and group norm, shared by the CPU (norm.cpp) and CUDA
// (norm.cu) kernels. Both normalise groups of M values: y = (x − mean)·invstd·w + b, invstd = 1/sqrt(var + eps) with
// the biased variance. Statistics are accumulated in double around a shift K (a value of the group) — Σ(x−K) and
// Σ(x−K)² — so the one-pass variance does not cancel catastrophically when |mean| ≫ std.
// Backward for a group, with ĝ = w_c·g (w_c = 1 without affine) and x̂ = (x − mean)·invstd:
//   dx = invstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) = w_c·invstd·g − (x − mean)·k − c,
//   k = invstd³·Σ ĝ(x − mean) / M,  c = invstd·Σ ĝ / M;   dw_c = invstd·Σ g(x − mean),  db_c = Σ g.
// (In evaluation mode the statistics are constants, so k = c = 0.)
#pragma once
#include <cmath>

#include "engine/hd.h"

namespace seg {

// Mean and biased variance of n values from the shifted sums s1 = Σ(x−shift), s2 = Σ(x−shift)².
SEG_HD void norm_moments(double n, double shift, double s1, double s2, double& mean, double& var) {
  const double m1 = s1 / n;
  mean = shift + m1;
  var = s2 / n - m1 * m1;
  if (var < 0) var = 0;  // rounding
}

SEG_HD double norm_invstd(double var, double eps) { return 1.0 / ::sqrt(var + eps); }  // ::, so seg::sqrt(Tensor) cannot hide it

// running = (1 − momentum)·running + momentum·batch (PyTorch's convention for momentum).
SEG_HD double norm_running_update(double running, double batch, double momentum) {
  return (1.0 - momentum) * running + momentum * batch;
}

// y = (x − mean)·scale + b with scale = invstd·w. Subtracting the mean first (rather than folding it into one
// multiply-add x·scale + (b − mean·scale)) keeps y accurate when |mean| ≫ std, for one extra subtraction.
template <class T>
SEG_HD T norm_apply(T x, T mean, T scale, T b) {
  return (x - mean) * scale + b;
}

// k and c of the backward formula above for a group of m values; sum_wg = Σ ĝ, sum_wgxc = Σ ĝ·(x − mean).
SEG_HD void norm_backward_coeffs(double m, double invstd, double sum_wg, double sum_wgxc, double& k, double& c) {
  k = invstd * invstd * invstd * sum_wgxc / m;
  c = invstd * sum_wg / m;
}

// w_invstd = w_c·invstd.
template <class T>
SEG_HD T norm_dx(T g, T x, T mean, T w_invstd, T k, T c) {
  return w_invstd * g - (x - mean) * k - c;
}

}  // namespace seg
