// Fused losses of the papers (differentiable w.r.t. the prediction; targets are constants): balanced BCE with logits
// (paper 3's edge loss), Dice (sums over batch and space per class), and the extended log-barrier (paper 5).
// Key decision: each loss is one pass forward (all its sums reduced at once, in double) and one pass backward,
// instead of a chain of elementwise ops and full-size temporaries. Definitions: docs/opcheck-format.md.
#pragma once
#include "engine/tensor.h"

namespace seg {

// logits and target (0/1 values) of the same shape → 0-d loss. β = (#target zeros)/numel weights the positives.
// A target value other than 0 or 1 is an error (checked on the CPU).
Tensor balanced_bce_with_logits(const Tensor& logits, const Tensor& target);

// p and target one-hot (N, K, ...) of the same shape → 0-d: 1 − mean_k (2·Σp·g + ε)/(Σp + Σg + ε).
Tensor dice_loss(const Tensor& p, const Tensor& target, double eps = 1e-6);

// Elementwise ψ_t(z), same shape; t > 0.
Tensor log_barrier(const Tensor& z, double t);

}  // namespace seg
