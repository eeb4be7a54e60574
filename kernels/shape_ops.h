// Shape ops (differentiable): reshape (no copy), concatenation and narrowing along a dimension.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace seg {

Tensor reshape(const Tensor& x, const Shape& shape);  // one entry may be -1
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);

}  // namespace seg
