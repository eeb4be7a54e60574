// The gradient checker every differentiable op and loss is tested with (float64 central differences vs backward).
// Key decisions: the function under test maps inputs to any tensor; we reduce it to a scalar with a fixed random
// weighting (so every output element's gradient is exercised, not just their sum) and check each input that takes a
// gradient, element by element, with the op's own tolerances.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace seg::testing {

struct GradcheckOptions {
  double eps = 1e-6;    // central-difference step
  double atol = 1e-6;   // |analytic − numeric| ≤ atol + rtol·|numeric|
  double rtol = 1e-4;
  uint64_t seed = 1234; // for the output weighting
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_err = 0;
  std::string message;  // the first mismatch: which input, element, analytic and numeric values
};

using GradFn = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` must be float64 CPU tensors; those with requires_grad set are checked.
GradcheckResult gradcheck(const GradFn& f, std::vector<Tensor> inputs, const GradcheckOptions& opt = {});

// Random float64 tensor with values in [lo, hi] kept at least `min_abs` away from 0 (non-zero inputs).
Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0, double min_abs = 0.05,
                     bool requires_grad = true);

}  // namespace seg::testing
