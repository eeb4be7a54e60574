// The losses of paper 3 (EG-CNN), composed from engine ops: the main stream's Dice (optionally + cross-entropy), the
// edge stream's Dice + balanced binary cross-entropy against the 3-D Sobel edges of the one-hot ground truth, and the
// dual-task consistency between the main output's boundaries and the ground truth's. The paper's equations (lost from
// our copy of its text, restated from its definitions):
//   (3) L = λ_main·L_Dice(p, y) [+ λ_ce·CE(s, y)] + L_edge + λ_dual·L_dual
//   (4) L_Dice(p, y) = 1 − mean_k (2·Σ_i p_ik·y_ik + ε) / (Σ_i p_ik + Σ_i y_ik + ε),   p = softmax(s) over classes
//   (5) L_edge = λ_edice·L_Dice(σ(ê), e) + λ_ebce·L_bce(ê, e)      ê: edge logits, e: Sobel edges of the one-hot GT
//   (6) L_bce = −(1/|Y|)·[β·Σ_{i∈Y+} log σ(ê_i) + (1 − β)·Σ_{i∈Y−} log(1 − σ(ê_i))],   β = |Y−|/|Y|
//   (7) L_dual = mean_{n,k,i} | G(GS(s))_{k,i} − G(y)_{k,i} |
//   (8) GS(s)_k = softmax_k((log p_k + g_k)/τ), g ~ Gumbel(0, 1)   (soft sample; "hard" = straight-through one-hot)
//   (9) G(q)_k = sqrt(Σ_{a∈{z,y,x}} (S_a ∗ q_k / 16)² + ε)        S_a: the 3-D Sobel filter along axis a (kernels/
//       sobel.h); /16 makes a unit step read 1; the same ε on both sides, so flat regions cost exactly 0.
// Key decisions:
//  * L_dual uses a real spatial gradient (the Sobel filter, the paper's "spatial derivative") of the Gumbel sample and
//    the same operator on the one-hot ground truth, so a perfect segmentation costs 0 — the public 2-D GSCNN code's
//    gradient helper returns before computing one; we follow the equations;
//  * the edge target is per foreground class (edge_map of channels 1..K−1) or their union (one boundary map), matching
//    the network's edge_channels; the data pipeline may pass its own (computed on a margin, without the patch-border
//    edges the zero padding marks), else it is computed here from the one-hot patch;
//  * λ defaults: all 1 and no cross-entropy (the paper's values were lost; apps expose every weight and τ).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace seg {

struct EgcnnLossConfig {
  double main_dice = 1.0;   // λ_main
  double main_ce = 0.0;     // λ_ce (not in the paper)
  double edge_dice = 1.0;   // λ_edice
  double edge_bce = 1.0;    // λ_ebce
  double dual = 1.0;        // λ_dual
  double tau = 0.5;         // Gumbel-softmax temperature
  bool hard = false;        // straight-through one-hot Gumbel sample
  double dice_eps = 1e-5;   // ε of eq. (4)
  double grad_eps = 1e-6;   // ε of eq. (9)
  std::string describe() const;
};

// Eq. (4) on softmax(logits): logits and onehot (N, K, ...) of one shape.
Tensor main_dice_loss(const Tensor& logits, const Tensor& onehot, double eps = 1e-5);
// Eq. (5): edge_logits and edge_target (N, E, D, H, W), target 0/1.
Tensor edge_loss(const Tensor& edge_logits, const Tensor& edge_target, double w_dice, double w_bce, double eps = 1e-5);
// Eq. (9) for every channel of q (N, C, D, H, W) → (N, C, D, H, W).
Tensor gradient_magnitude3d(const Tensor& q, double eps = 1e-6);
// Eq. (7) with the Gumbel noise given (shape of logits; deterministic, for gradient checks) or drawn from gen.
Tensor dual_task_loss_with_noise(const Tensor& logits, const Tensor& onehot, const Tensor& noise, double tau, bool hard,
                                 double eps = 1e-6);
Tensor dual_task_loss(const Tensor& logits, const Tensor& onehot, double tau, bool hard, Generator& gen,
                      double eps = 1e-6);
// Edge targets from a one-hot (N, K, D, H, W): per foreground class (K − 1 channels) or their union (1 channel).
// Not differentiable.
Tensor edge_targets(const Tensor& onehot, bool per_class);

struct EgcnnTargets {
  Tensor onehot;  // (N, K, D, H, W) 0/1, the logits' dtype and device
  Tensor labels;  // (N, D, H, W) int64 class ids; only needed when main_ce > 0
  Tensor edges;   // (N, E, D, H, W) 0/1; undefined: edge_targets(onehot, E > 1)
};
struct EgcnnLossTerms {
  Tensor total;
  std::vector<std::pair<std::string, double>> parts;  // "dice", ["ce"], ["edge_dice", "edge_bce", "dual"]
};
// Eq. (3). edge_logits undefined (a backbone without the stream): the main terms only.
EgcnnLossTerms egcnn_loss(const Tensor& logits, const Tensor& edge_logits, const EgcnnTargets& targets,
                          const EgcnnLossConfig& cfg, Generator& gen);

}  // namespace seg
