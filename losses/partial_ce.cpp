// Partial cross-entropy as a composition of engine ops (see partial_ce.h).
#include "losses/partial_ce.h"

#include <limits>

#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"

namespace seg {

Tensor partial_cross_entropy(const Tensor& log_probs, const Tensor& mask, int64_t k) {
  const char* op = "partial_cross_entropy";
  check_float(log_probs, op, "log_probs");
  check_float(mask, op, "mask");
  check_same_dtype_device(log_probs, mask, op);
  SEG_CHECK(log_probs.dim() == 4 || log_probs.dim() == 5, op, ": log_probs must be (N,K,H,W) or (N,K,D,H,W), got ",
            log_probs.describe());
  SEG_CHECK(k >= 0 && k < log_probs.size(1), op, ": class ", k, " out of range for ", log_probs.describe());
  Shape want = log_probs.shape();
  want.erase(want.begin() + 1);
  SEG_CHECK(mask.shape() == want, op, ": mask must be ", shape_str(want), " for log_probs ", log_probs.describe(),
            ", got ", mask.describe());
  Shape plane = want;
  plane.insert(plane.begin() + 1, 1);
  const Tensor lp = narrow(log_probs, 1, k, 1);
  const Tensor m = reshape(mask.detach(), plane);
  const Tensor labelled = clamp(sum_all(m), 1.0, std::numeric_limits<double>::infinity());
  return neg(div(sum_all(mul(lp, m)), labelled));
}

}  // namespace seg
