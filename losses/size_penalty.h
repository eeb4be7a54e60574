// Size penalty (paper 1, Kervadec's size loss): for each sample and class, V = Σ_{h,w} p and
// c(V) = (V−a)² if V < a, (V−b)² if V > b, else 0; the loss is mean over N·K of c(V)/(H·W).
// Key decision: c(V) = relu(a−V)² + relu(V−b)², exact for a ≤ b (the caller's bounds; a > b is an error on the CPU),
// composed from engine ops: the only full-size pass is the sum over H, W.
#pragma once
#include "engine/tensor.h"

namespace seg {

// p (N,K,H,W), bounds (N,K,2) = [a, b] per sample and class (same dtype/device; not differentiated).
// Returns a 0-d tensor, differentiable w.r.t. p.
Tensor size_penalty(const Tensor& p, const Tensor& bounds);

}  // namespace seg
