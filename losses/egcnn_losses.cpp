// Paper 3's losses as compositions of engine ops (see egcnn_losses.h).
#include "losses/egcnn_losses.h"

#include <sstream>

#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/fused_losses.h"
#include "kernels/gumbel.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "kernels/sobel.h"
#include "kernels/softmax.h"

namespace seg {

std::string EgcnnLossConfig::describe() const {
  std::ostringstream s;
  s << main_dice << "·Dice";
  if (main_ce > 0) s << " + " << main_ce << "·CE";
  s << " [+ " << edge_dice << "·edge Dice + " << edge_bce << "·edge balanced BCE + " << dual
    << "·dual-task L1 (Gumbel τ " << tau << (hard ? ", hard" : "") << ")]";
  return s.str();
}

namespace {
void check_pair(const Tensor& a, const Tensor& b, const char* op, const char* an, const char* bn) {
  check_float(a, op, an);
  check_float(b, op, bn);
  check_same_dtype_device(a, b, op);
  SEG_CHECK(a.shape() == b.shape(), op, ": ", an, " and ", bn, " must have one shape, got ", a.describe(), " and ",
            b.describe());
}
}  // namespace

Tensor main_dice_loss(const Tensor& logits, const Tensor& onehot, double eps) {
  check_pair(logits, onehot, "main_dice_loss", "logits", "onehot");
  SEG_CHECK(logits.dim() >= 3, "main_dice_loss: logits must be (N, K, ...), got ", logits.describe());
  return dice_loss(softmax(logits, 1), onehot.detach(), eps);
}

Tensor edge_loss(const Tensor& edge_logits, const Tensor& edge_target, double w_dice, double w_bce, double eps) {
  check_pair(edge_logits, edge_target, "edge_loss", "edge_logits", "edge_target");
  const Tensor t = edge_target.detach();
  Tensor l = scale(dice_loss(sigmoid(edge_logits), t, eps), w_dice);
  return add(l, scale(balanced_bce_with_logits(edge_logits, t), w_bce));
}

Tensor gradient_magnitude3d(const Tensor& q, double eps) {
  check_float(q, "gradient_magnitude3d", "input");
  SEG_CHECK(q.dim() == 5, "gradient_magnitude3d: input must be (N, C, D, H, W), got ", q.describe());
  const int64_t N = q.size(0), C = q.size(1);
  // sobel3d: (N, 3C, ...) with [gz, gy, gx] of channel c at 3c … 3c + 2; sum the squares over the three.
  const Tensor g = scale(sobel3d(q), 1.0 / 16.0);
  const Tensor sq = reshape(square(g), {N * C, 3, q.size(2), q.size(3), q.size(4)});  // tensors have at most 5 dims
  return reshape(sqrt(add_scalar(sum(sq, {1}), eps)), q.shape());
}

Tensor dual_task_loss_with_noise(const Tensor& logits, const Tensor& onehot, const Tensor& noise, double tau, bool hard,
                                 double eps) {
  check_pair(logits, onehot, "dual_task_loss", "logits", "onehot");
  SEG_CHECK(logits.dim() == 5, "dual_task_loss: logits must be (N, K, D, H, W), got ", logits.describe());
  SEG_CHECK(tau > 0, "dual_task_loss: tau must be positive, got ", tau);
  const Tensor sample = gumbel_softmax_with_noise(logits, noise, tau, hard, 1);
  const Tensor target = gradient_magnitude3d(onehot.detach(), eps).detach();
  return mean_all(abs(sub(gradient_magnitude3d(sample, eps), target)));
}

Tensor dual_task_loss(const Tensor& logits, const Tensor& onehot, double tau, bool hard, Generator& gen, double eps) {
  const Tensor noise = gumbel_noise(logits.shape(), gen, logits.dtype(), logits.device());
  return dual_task_loss_with_noise(logits, onehot, noise, tau, hard, eps);
}

Tensor edge_targets(const Tensor& onehot, bool per_class) {
  check_float(onehot, "edge_targets", "onehot");
  SEG_CHECK(onehot.dim() == 5 && onehot.size(1) >= 2, "edge_targets: onehot must be (N, K ≥ 2, D, H, W), got ",
            onehot.describe());
  NoGradGuard ng;
  const Tensor fg = edge_map(narrow(onehot.detach(), 1, 1, onehot.size(1) - 1));
  if (per_class) return fg;
  return clamp(sum(fg, {1}, true), 0.0, 1.0);
}

EgcnnLossTerms egcnn_loss(const Tensor& logits, const Tensor& edge_logits, const EgcnnTargets& t,
                          const EgcnnLossConfig& cfg, Generator& gen) {
  EgcnnLossTerms r;
  const Tensor dice = main_dice_loss(logits, t.onehot, cfg.dice_eps);
  r.total = scale(dice, cfg.main_dice);
  r.parts.emplace_back("dice", dice.item());
  if (cfg.main_ce > 0) {
    SEG_CHECK(t.labels.defined(), "egcnn_loss: main_ce > 0 needs targets.labels (N, D, H, W) int64");
    const Tensor ce = cross_entropy(logits, t.labels);
    r.total = add(r.total, scale(ce, cfg.main_ce));
    r.parts.emplace_back("ce", ce.item());
  }
  if (!edge_logits.defined()) return r;
  const Tensor edges = t.edges.defined() ? t.edges : edge_targets(t.onehot, edge_logits.size(1) > 1);
  SEG_CHECK(edges.shape() == edge_logits.shape(), "egcnn_loss: edge targets ", edges.describe(),
            " do not match the edge logits ", edge_logits.describe());
  const Tensor ed = dice_loss(sigmoid(edge_logits), edges.detach(), cfg.dice_eps);
  const Tensor eb = balanced_bce_with_logits(edge_logits, edges.detach());
  const Tensor dual = dual_task_loss(logits, t.onehot, cfg.tau, cfg.hard, gen, cfg.grad_eps);
  r.total = add(r.total, add(add(scale(ed, cfg.edge_dice), scale(eb, cfg.edge_bce)), scale(dual, cfg.dual)));
  r.parts.emplace_back("edge_dice", ed.item());
  r.parts.emplace_back("edge_bce", eb.item());
  r.parts.emplace_back("dual", dual.item());
  return r;
}

}  // namespace seg
