// Pixel-wise classification and regression losses with PyTorch semantics (differentiable w.r.t. the prediction).
#pragma once
#include <string>

#include "engine/tensor.h"

namespace seg {

enum class Reduction { None, Mean, Sum };
Reduction parse_reduction(const std::string& s);

// input (N,C,...) log-probabilities, target (N,...) int64 class ids; weight (C) optional (undefined = 1).
// Mean divides by the summed weights of the non-ignored targets, as torch.nn.functional.nll_loss.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(), int64_t ignore_index = -100,
                Reduction reduction = Reduction::Mean);
// log_softmax over dim 1, then nll_loss.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);
// (input − target)²; differentiable w.r.t. both.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

}  // namespace seg
