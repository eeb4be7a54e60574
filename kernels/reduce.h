// Reductions (differentiable): sum and mean over chosen dimensions or over everything.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace seg {

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor sum_all(const Tensor& x);   // 0-d result
Tensor mean_all(const Tensor& x);  // 0-d result

// Not differentiable: broadcasts g (shape with size-1 dims where reduced) up to `shape`, times `factor`.
Tensor expand_to(const Tensor& g, const Shape& shape, double factor = 1.0);

}  // namespace seg
