// Paper 5's supervision without pixel labels: bounds on shape descriptors of each class's softmax map, enforced with
// the extended log-barrier ψ_t (kernels/fused_losses.h).
//   descriptors (losses/shape_descriptors.h): size S = Σp; centroid C = Σp·x/Σp per axis (x, y); distance to the
//   centroid D = sqrt(Σp·(x − C)²/Σp) per axis; length L = pᵀLp (8-neighbour Laplacian, double accumulation).
//   bounds per slice from its ground truth: S and L ±10 %, C and D ±20 px at 256² (scaled by W/256 along x, H/256
//   along y); lower bounds clamped at 0; a class absent from the slice gets [0, 0] on S and L and no C or D term
//   (both are undefined for an empty mask).
//   priors (ACDC): the myocardium's centroid target is the LV's (τ_C(Myo) = τ_C(LV)), and 2 ≤ L(Myo)/L(LV) ≤ 3.
//   loss = Σ over descriptors of weight · Σ_{n, class, dim} [ψ_t(lower − v) + ψ_t(v − upper)] / (W·H), weight 1e-2
//   each; t starts at 1 and is multiplied by 1.1 after every epoch (LogBarrierSchedule).
// Key decisions:
// - Bounds are a separate object made from a label map (descriptor_bounds): they are the only "annotation" the loss
//   sees, computed after augmentation as the authors do, with exact double-precision loops on the labels that match
//   shape_descriptors / length_descriptor on one-hot maps.
// - The length ratio is enforced multiplied out, ψ_t(lo·L(den) − L(num)) + ψ_t(L(num) − hi·L(den)), on slices where
//   both classes occur: the same feasible set as lo ≤ L(num)/L(den) ≤ hi for L(den) > 0, in pixels like the length
//   terms (so the common W·H normalisation and weight apply) and never dividing by an empty class's length.
// - Where the authors' code differs we do it right: their length margin is ×10 (margin 10 in "percentage" mode, i.e.
//   [0, 11·L]); their centroid/distance bounds for an absent class are [0, 20] px (pulling it to the image corner);
//   their length-ratio loss compares raw lengths of the batch's first two samples and is not used in their recipe.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace seg {

struct LengthRatioPrior {
  int64_t num = 0, den = 0;  // class ids (label values)
  double lo = 0, hi = 0;     // lo ≤ L(num)/L(den) ≤ hi
};

struct DescriptorLossConfig {
  std::vector<int64_t> classes;        // constrained class ids; empty: every class but 0 (background)
  bool size = true, centroid = true, spread = true, length = true;
  double size_margin = 0.10;           // relative (±10 %)
  double length_margin = 0.10;         // relative
  double centroid_margin_px = 20;      // at reference_size², scaled by W/reference_size (x) and H/reference_size (y)
  double spread_margin_px = 20;
  double reference_size = 256;
  std::vector<std::pair<int64_t, int64_t>> same_centroid;  // (k, l): class k's centroid target is l's (when l occurs)
  std::vector<LengthRatioPrior> length_ratios;
  double weight = 1e-2;                // of each descriptor's term (the ratio prior included)
};

// The paper's recipe: "acdc" (classes RV 1, Myo 2, LV 3; τ_C(Myo) = τ_C(LV); 2 ≤ L(Myo)/L(LV) ≤ 3) or "promise12"
// (prostate 1); S, C, D, L on every foreground class.
DescriptorLossConfig paper5_descriptor_config(const std::string& dataset);

// Per-slice bounds. Each descriptor tensor is (N, C, D, 2) = [lower, upper] for sample n, constrained class c (in
// cfg.classes order), dimension d (D = 1 for size and length, 2 = (x, y) for centroid and distance), float32 on the CPU.
struct DescriptorBounds {
  Tensor size, centroid, spread, length;
  Tensor present;       // (N, C): 1 where the class occurs in the slice (its centroid and distance terms apply)
  Tensor ratio_active;  // (N, R): 1 where both classes of cfg.length_ratios[r] occur
  std::vector<int64_t> classes;  // the constrained class ids (cfg.classes resolved)
  int64_t height = 0, width = 0;
};

// labels (N, H, W) int64 with values in [0, num_classes).
DescriptorBounds descriptor_bounds(const Tensor& labels, int64_t num_classes, const DescriptorLossConfig& cfg);

// The ground-truth descriptors of one label slice (H·W values, row-major), per class id 0..K−1: what the bounds are
// built from, exposed for tests and reports. centroid/spread are (x, y); 0 for an absent class.
struct SliceDescriptors {
  std::vector<double> size, length, cx, cy, dx, dy;
};
SliceDescriptors label_descriptors(const int64_t* labels, int64_t H, int64_t W, int64_t num_classes);

struct DescriptorLossTerms {
  Tensor total;                                  // 0-d, what training minimises
  Tensor size, centroid, spread, length, ratio;  // 0-d each (weighted; zeros when disabled)
};

// probs (N, K, H, W) softmax probabilities (float32 or float64, any device); t > 0 the barrier's current slope.
DescriptorLossTerms descriptor_loss(const Tensor& probs, const DescriptorBounds& bounds, const DescriptorLossConfig& cfg,
                                    double t);

// t = t0 · factor^epoch: call step() after every epoch.
struct LogBarrierSchedule {
  double t = 1.0, factor = 1.1;
  void step() { t *= factor; }
};

}  // namespace seg
