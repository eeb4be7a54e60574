// Per-element arithmetic of the fused losses (balanced BCE with logits, Dice, extended log-barrier), shared by the
// CPU and CUDA backends. Definitions: docs/opcheck-format.md ("Ops of this project").
#pragma once
#include <cmath>

#include "engine/hd.h"

namespace seg {

// log σ(x) without overflow or cancellation: −::log(1 + e^{−x}) for x ≥ 0, x − ::log(1 + e^{x}) otherwise.
SEG_HD double log_sigmoid(double x) { return x >= 0 ? -::log1p(::exp(-x)) : x - ::log1p(::exp(x)); }
SEG_HD double stable_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + ::exp(-x)) : ::exp(x) / (1.0 + ::exp(x)); }

// Balanced BCE, β = (#zeros)/n: loss = −[β·Σ_{t=1} log σ(x) + (1−β)·Σ_{t=0} ::log(1−σ(x))]/n. The element's
// contribution to the two sums (t = 1 → s1, t = 0 → s0 with ::log(1 − σ(x)) = log σ(−x)).
SEG_HD void balanced_bce_terms(double x, double t, double* s1, double* s0) {
  if (t > 0.5) *s1 += log_sigmoid(x);
  else *s0 += log_sigmoid(-x);
}
// ∂loss/∂x · g: −g/n·[β(1 − σ(x))] for t = 1, +g/n·(1 − β)σ(x) for t = 0.
SEG_HD double balanced_bce_grad(double x, double t, double beta, double g_over_n) {
  return t > 0.5 ? -g_over_n * beta * (1.0 - stable_sigmoid(x)) : g_over_n * (1.0 - beta) * stable_sigmoid(x);
}

// Dice of one class from its sums I = Σp·g, P = Σp, G = Σg: (2I + ε)/(P + G + ε); loss = 1 − mean_k dice_k.
SEG_HD double dice_ratio(double I, double P, double G, double eps) { return (2.0 * I + eps) / (P + G + eps); }
// ∂loss/∂p at an element with target g, K classes, times the upstream gradient gout.
SEG_HD double dice_grad(double target, double I, double P, double G, double eps, double K, double gout) {
  const double den = P + G + eps;
  return -gout / K * (2.0 * target * den - (2.0 * I + eps)) / (den * den);
}

// Extended log-barrier (Kervadec et al.): ψ_t(z) = −::log(−z)/t for z ≤ −1/t², else t·z − ::log(1/t²)/t + 1/t
// (continuous and C¹ at z = −1/t²).
SEG_HD double log_barrier_value(double z, double t) {
  return z <= -1.0 / (t * t) ? -::log(-z) / t : t * z - ::log(1.0 / (t * t)) / t + 1.0 / t;
}
SEG_HD double log_barrier_derivative(double z, double t) { return z <= -1.0 / (t * t) ? -1.0 / (t * z) : t; }

}  // namespace seg
