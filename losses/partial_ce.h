// Partial cross-entropy (paper 1, weak supervision): −Σ mask·log p_k / Σ mask over the labelled seed pixels, for the
// one labelled class k (as in the authors' code, docs/reference_code.md: only the foreground is labelled; background
// pixels get no CE).
// Key decision: composed from engine ops (narrow, mul, sum) — it is a handful of passes over one class plane, so a
// fused kernel would not pay for itself; an empty mask gives 0 with a zero gradient (Σ mask is clamped to ≥ 1, exact for
// a 0/1 mask).
#pragma once
#include "engine/tensor.h"

namespace seg {

// log_probs (N,K,H,W) (or (N,K,D,H,W)), mask (N,H,W) (resp. (N,D,H,W)) float 0/1 on the same device and dtype;
// class k in [0, K). Returns a 0-d tensor, differentiable w.r.t. log_probs.
Tensor partial_cross_entropy(const Tensor& log_probs, const Tensor& mask, int64_t k);

}  // namespace seg
