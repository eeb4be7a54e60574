// Paper 4's composed losses (see multitask.h).
#include "losses/multitask.h"

#include "kernels/elementwise.h"
#include "kernels/nll.h"

namespace seg {

namespace {

void check_pair(const Tensor& pred, const Tensor& target, const char* name, int64_t channels, bool labels) {
  SEG_CHECK(target.defined(), "multitask_loss: ", name, " prediction given without its target");
  SEG_CHECK(pred.dim() == 4 && pred.size(1) == channels, "multitask_loss: ", name, " must be (N, ", channels,
            ", H, W), got ", pred.describe());
  if (labels) {
    SEG_CHECK(target.dtype() == DType::Int64 && target.dim() == 3 && target.size(0) == pred.size(0) &&
                  target.size(1) == pred.size(2) && target.size(2) == pred.size(3),
              "multitask_loss: ", name, " target must be int64 (N, H, W) matching ", pred.describe(), ", got ",
              target.describe());
  } else {
    SEG_CHECK(target.shape() == pred.shape() && target.dtype() == pred.dtype(), "multitask_loss: ", name,
              " target must match the prediction ", pred.describe(), ", got ", target.describe());
  }
}

}  // namespace

MultitaskLoss multitask_loss(const Tensor& mask_logp, const Tensor& mask_target, const Tensor& contour_logp,
                             const Tensor& contour_target, const Tensor& distance, const Tensor& distance_target,
                             const MultitaskWeights& w) {
  SEG_CHECK(mask_logp.defined(), "multitask_loss: the mask prediction is required");
  check_pair(mask_logp, mask_target, "mask", 2, true);
  MultitaskLoss out;
  out.mask = nll_loss(mask_logp, mask_target);
  out.total = scale(out.mask, w.mask);
  if (contour_logp.defined()) {
    check_pair(contour_logp, contour_target, "contour", 2, true);
    SEG_CHECK(contour_logp.shape() == mask_logp.shape(), "multitask_loss: contour ", contour_logp.describe(),
              " and mask ", mask_logp.describe(), " differ in shape");
    out.contour = nll_loss(contour_logp, contour_target);
    out.total = add(out.total, scale(out.contour, w.contour));
  }
  if (distance.defined()) {
    check_pair(distance, distance_target, "distance", 1, false);
    SEG_CHECK(distance.size(0) == mask_logp.size(0) && distance.size(2) == mask_logp.size(2) &&
                  distance.size(3) == mask_logp.size(3),
              "multitask_loss: distance ", distance.describe(), " and mask ", mask_logp.describe(), " differ in size");
    out.distance = mse_loss(distance, distance_target);
    out.total = add(out.total, scale(out.distance, w.distance));
  }
  return out;
}

}  // namespace seg
