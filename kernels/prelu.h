// PReLU (differentiable w.r.t. input and weight), PyTorch semantics: y = x if x > 0 else w·x, with one slope shared
// by all channels (weight of 1 element) or one per channel (weight of C = x.size(1) elements, x (N, C, ...)).
#pragma once
#include "engine/tensor.h"

namespace seg {

Tensor prelu(const Tensor& x, const Tensor& weight);

}  // namespace seg
