// Paper 4's composed losses (§2.3): the mask's pixel-wise NLL regularised by a second task on the same input,
//   L_mc = w_mask·NLL(mask) + w_aux·NLL(contour)          (eq. 1; contour map: boundary dilated by a disk of r = 5)
//   L_md = w_mask·NLL(mask) + w_aux·MSE(distance)         (eq. 4; distance map in the sigmoid's range [0, 1])
// and, with both auxiliary terms, Psi-Net's three-term loss. Weights 1 in the paper.
// Key decision: every term is a mean over pixels (and the batch), as torch.nn.NLLLoss / MSELoss with their default
// reduction in the authors' code; the paper's equations write sums, which differ from this only by the constant
// factor N·H·W — and that factor is the same for both terms, so the relative weight of the tasks is unchanged.
// Composed from engine ops (nll_loss, mse_loss): no kernel of its own.
#pragma once
#include "engine/tensor.h"

namespace seg {

struct MultitaskWeights {
  double mask = 1.0, contour = 1.0, distance = 1.0;
};

struct MultitaskLoss {
  Tensor total;                    // 0-d, differentiable
  Tensor mask, contour, distance;  // the unweighted terms (undefined when the term is absent)
};

// mask_logp, contour_logp: (N, 2, H, W) log-probabilities; mask_target, contour_target: (N, H, W) int64 in {0, 1};
// distance: (N, 1, H, W) predictions in (0, 1); distance_target: the same shape, normalised to [0, 1].
// Pass undefined tensors (Tensor()) for an absent auxiliary task; the mask term is always present.
MultitaskLoss multitask_loss(const Tensor& mask_logp, const Tensor& mask_target, const Tensor& contour_logp,
                             const Tensor& contour_target, const Tensor& distance, const Tensor& distance_target,
                             const MultitaskWeights& w = {});

}  // namespace seg
