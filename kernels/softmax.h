// Softmax and log-softmax over one dimension (differentiable).
#pragma once
#include "engine/tensor.h"

namespace seg {
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
}  // namespace seg
