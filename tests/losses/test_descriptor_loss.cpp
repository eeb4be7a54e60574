// Paper 5's descriptor loss (losses/descriptor_loss.h): the label descriptors equal shape_descriptors/length_descriptor
// on one-hot maps; bounds by hand (margins, scaling with the slice size, clamping, absent classes, the ACDC priors);
// the loss against a direct evaluation of its definition; float64 gradchecks of every term on odd shapes in both
// barrier regions; error paths; and that the loss alone, minimised over free logits, recovers a two-class shape.
// Self-contained (its own helpers) so it can move to another suite unchanged.
#include <cmath>

// rng.h first: its unqualified log/sqrt would otherwise also see seg::log(Tensor) from elementwise.h.
#include "engine/rng.h"
#include "engine/autograd.h"
#include "engine/optim.h"
#include "tests/support/kernel_test_util.h"
#include "kernels/elementwise.h"
#include "kernels/fused_losses_math.h"
#include "kernels/shape_ops.h"
#include "kernels/softmax.h"
#include "losses/descriptor_loss.h"
#include "losses/shape_descriptors.h"

using namespace seg;
using namespace seg::testing;

namespace {

// A deterministic label map (N, H, W): a disc of class 3 inside a ring of class 2, a blob of class 1 beside them,
// shifted per sample; class `absent` (if >= 0) never drawn.
Tensor heart_labels(int64_t N, int64_t H, int64_t W, int64_t absent = -1) {
  std::vector<int64_t> v(static_cast<size_t>(N * H * W), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const double cy = 0.5 * H + n, cx = 0.45 * W + n, r = std::hypot(y - cy, x - cx);
        int64_t k = 0;
        if (r < 0.22 * std::min(H, W)) k = 2;
        if (r < 0.12 * std::min(H, W)) k = 3;
        if (std::hypot(y - cy, x - (cx + 0.33 * W)) < 0.14 * std::min(H, W)) k = 1;
        if (k == absent) k = 0;
        v[static_cast<size_t>((n * H + y) * W + x)] = k;
      }
  return Tensor::from_labels(v, {N, H, W});
}

Tensor one_hot_of(const Tensor& lab, int64_t K, DType dt = DType::Float64) {
  const int64_t N = lab.size(0), H = lab.size(1), W = lab.size(2);
  Tensor t = Tensor::zeros({N, K, H, W}, DType::Float64);
  const int64_t* l = lab.data<int64_t>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < H * W; ++i) t.data<double>()[(n * K + l[n * H * W + i]) * H * W + i] = 1;
  return dt == DType::Float64 ? t : t.to(dt);
}

double psi(double z, double t) { return log_barrier_value(z, t); }

}  // namespace

TEST(DescriptorLoss, LabelDescriptorsEqualTheSoftDescriptorsOnOneHotMaps) {
  const Tensor lab = heart_labels(2, 19, 23);
  const Tensor oh = one_hot_of(lab, 4);
  const ShapeDescriptors d = shape_descriptors(oh, 0.0);
  const Tensor L = length_descriptor(oh, 8);
  const auto size = d.size.to_vector(), cen = d.centroid.to_vector(), spr = d.spread.to_vector(), len = L.to_vector();
  for (int64_t n = 0; n < 2; ++n) {
    const SliceDescriptors s = label_descriptors(lab.data<int64_t>() + n * 19 * 23, 19, 23, 4);
    for (size_t k = 0; k < 4; ++k) {
      const size_t i = static_cast<size_t>(n) * 4 + k;
      EXPECT_NEAR(s.size[k], size[i], 1e-9);
      EXPECT_NEAR(s.length[k], len[i], 1e-9) << "class " << k;
      EXPECT_NEAR(s.cx[k], cen[2 * i], 1e-9);
      EXPECT_NEAR(s.cy[k], cen[2 * i + 1], 1e-9);
      EXPECT_NEAR(s.dx[k], spr[2 * i], 1e-6);
      EXPECT_NEAR(s.dy[k], spr[2 * i + 1], 1e-6);
    }
  }
  // a 3×4 rectangle of class 1 in a 6×7 slice: 12 pixels, centroid (x 2.5, y 2), 8-neighbour boundary pairs:
  // 10 edge-adjacent + 14 diagonal crossings = 24 (inner 4-neighbour pairs 2·3+2·4 = 14 ... counted by brute force)
  std::vector<int64_t> r(42, 0);
  for (int y = 1; y <= 3; ++y)
    for (int x = 1; x <= 4; ++x) r[static_cast<size_t>(y * 7 + x)] = 1;
  const SliceDescriptors s = label_descriptors(r.data(), 6, 7, 2);
  int64_t pairs = 0;  // brute force over ordered pairs of 8-neighbours, halved
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 7; ++x)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if ((dy || dx) && yy >= 0 && yy < 6 && xx >= 0 && xx < 7 && r[y * 7 + x] != r[yy * 7 + xx]) ++pairs;
        }
  EXPECT_EQ(s.size[1], 12);
  EXPECT_EQ(s.length[1], pairs / 2);
  EXPECT_EQ(s.length[0], pairs / 2);
  EXPECT_DOUBLE_EQ(s.cx[1], 2.5);
  EXPECT_DOUBLE_EQ(s.cy[1], 2.0);
  EXPECT_NEAR(s.dx[1], std::sqrt(1.25), 1e-12);  // x ∈ {1..4}: variance 1.25
  EXPECT_NEAR(s.dy[1], std::sqrt(2.0 / 3.0), 1e-12);
}

TEST(DescriptorLoss, BoundsByHand) {
  // 64 × 128 slices: the ±20 px margins at 256² become ±5 px along y and ±10 px along x.
  const Tensor lab = heart_labels(2, 64, 128, /*absent=*/1);
  DescriptorLossConfig cfg = paper5_descriptor_config("acdc");
  const DescriptorBounds b = descriptor_bounds(lab, 4, cfg);
  ASSERT_EQ(b.size.shape(), (Shape{2, 3, 1, 2}));
  ASSERT_EQ(b.centroid.shape(), (Shape{2, 3, 2, 2}));
  const auto sz = b.size.to_vector(), ce = b.centroid.to_vector(), sp = b.spread.to_vector(), ln = b.length.to_vector();
  const auto pr = b.present.to_vector(), ra = b.ratio_active.to_vector();
  for (int64_t n = 0; n < 2; ++n) {
    const SliceDescriptors d = label_descriptors(lab.data<int64_t>() + n * 64 * 128, 64, 128, 4);
    // class 1 (RV) is absent: [0, 0] on size and length, no centroid/distance term
    EXPECT_EQ(pr[static_cast<size_t>(n * 3)], 0);
    EXPECT_EQ(sz[static_cast<size_t>(n * 6)], 0);
    EXPECT_EQ(sz[static_cast<size_t>(n * 6 + 1)], 0);
    EXPECT_EQ(ln[static_cast<size_t>(n * 6 + 1)], 0);
    for (int c = 1; c < 3; ++c) {  // Myo (2) and LV (3)
      const size_t i = static_cast<size_t>(n * 3 + c), k = static_cast<size_t>(c + 1);
      EXPECT_EQ(pr[i], 1);
      EXPECT_NEAR(sz[2 * i], 0.9 * d.size[k], 1e-3);
      EXPECT_NEAR(sz[2 * i + 1], 1.1 * d.size[k], 1e-3);
      EXPECT_NEAR(ln[2 * i], 0.9 * d.length[k], 1e-3);
      EXPECT_NEAR(ln[2 * i + 1], 1.1 * d.length[k], 1e-3);
      // centroid: the LV's for both (τ_C(Myo) = τ_C(LV)), ±10 px in x, ±5 px in y
      EXPECT_NEAR(ce[4 * i], d.cx[3] - 10, 1e-4);
      EXPECT_NEAR(ce[4 * i + 1], d.cx[3] + 10, 1e-4);
      EXPECT_NEAR(ce[4 * i + 2], d.cy[3] - 5, 1e-4);
      EXPECT_NEAR(ce[4 * i + 3], d.cy[3] + 5, 1e-4);
      EXPECT_NEAR(sp[4 * i], std::max(0.0, d.dx[k] - 10), 1e-4);  // clamped at 0 when the spread is small
      EXPECT_NEAR(sp[4 * i + 3], d.dy[k] + 5, 1e-4);
    }
    EXPECT_EQ(ra[static_cast<size_t>(n)], 1);  // Myo and LV both occur
  }
  // without the prior, the myocardium's own centroid (a ring around the LV: close to, not equal to, the LV's)
  DescriptorLossConfig plain = cfg;
  plain.same_centroid.clear();
  const DescriptorBounds p = descriptor_bounds(lab, 4, plain);
  const SliceDescriptors d0 = label_descriptors(lab.data<int64_t>(), 64, 128, 4);
  EXPECT_NEAR(p.centroid.to_vector()[4], d0.cx[2] - 10, 1e-4);
  // a slice without the LV: the ratio prior is off there, and Myo keeps its own centroid
  const Tensor nolv = heart_labels(1, 64, 128, /*absent=*/3);
  const DescriptorBounds q = descriptor_bounds(nolv, 4, cfg);
  EXPECT_EQ(q.ratio_active.to_vector()[0], 0);
  const SliceDescriptors dq = label_descriptors(nolv.data<int64_t>(), 64, 128, 4);
  EXPECT_NEAR(q.centroid.to_vector()[4], dq.cx[2] - 10, 1e-4);
}

namespace {

// The loss evaluated directly from its definition (ACDC's recipe, classes 1–3), and how many barrier arguments fall
// in the log region (z ≤ −1/t²) and in the linear one.
struct Direct {
  double size = 0, centroid = 0, spread = 0, length = 0, ratio = 0;
  int log_region = 0, linear_region = 0;
};
Direct direct_loss(const Tensor& p, const DescriptorBounds& b, double t) {
  const int64_t N = p.size(0), H = p.size(2), W = p.size(3);
  const Tensor pc = narrow(p, 1, 1, 3);
  const ShapeDescriptors d = shape_descriptors(pc);
  const auto S = d.size.to_vector(), Cn = d.centroid.to_vector(), D = d.spread.to_vector();
  const auto L = length_descriptor(pc, 8).to_vector();
  const auto bs = b.size.to_vector(), bc = b.centroid.to_vector(), bd = b.spread.to_vector(), bl = b.length.to_vector();
  const auto pr = b.present.to_vector(), ra = b.ratio_active.to_vector();
  Direct r;
  auto ps = [&](double z, double on = 1.0) {
    if (on > 0) (z <= -1.0 / (t * t) ? r.log_region : r.linear_region) += 1;
    return on * psi(z, t);
  };
  for (size_t i = 0; i < static_cast<size_t>(N * 3); ++i) {
    r.size += ps(bs[2 * i] - S[i]) + ps(S[i] - bs[2 * i + 1]);
    r.length += ps(bl[2 * i] - L[i]) + ps(L[i] - bl[2 * i + 1]);
    for (size_t a = 0; a < 2; ++a) {
      r.centroid += ps(bc[4 * i + 2 * a] - Cn[2 * i + a], pr[i]) + ps(Cn[2 * i + a] - bc[4 * i + 2 * a + 1], pr[i]);
      r.spread += ps(bd[4 * i + 2 * a] - D[2 * i + a], pr[i]) + ps(D[2 * i + a] - bd[4 * i + 2 * a + 1], pr[i]);
    }
  }
  for (size_t n = 0; n < static_cast<size_t>(N); ++n) {
    const double lm = L[n * 3 + 1], ll = L[n * 3 + 2];
    r.ratio += ps(2 * ll - lm, ra[n]) + ps(lm - 3 * ll, ra[n]);
  }
  const double k = 1e-2 / static_cast<double>(H * W);
  r.size *= k, r.centroid *= k, r.spread *= k, r.length *= k, r.ratio *= k;
  return r;
}

}  // namespace

TEST(DescriptorLoss, ValueEqualsTheDefinition) {
  // float64 logits on an odd shape; every term evaluated directly from the descriptors.
  const int64_t N = 2, K = 4, H = 9, W = 11;
  const Tensor lab = heart_labels(N, H, W, /*absent=*/1);
  DescriptorLossConfig cfg = paper5_descriptor_config("acdc");
  cfg.reference_size = 16;  // margins of 20·11/16 and 20·9/16 px: a mix of satisfied and violated bounds
  const DescriptorBounds b = descriptor_bounds(lab, K, cfg);
  const Tensor p = softmax(random_tensor({N, K, H, W}, 3, -2, 2, 0.0, false), 1);
  for (double t : {1.0, 5.0}) {
    const DescriptorLossTerms got = descriptor_loss(p, b, cfg, t);
    const Direct want = direct_loss(p, b, t);
    EXPECT_NEAR(got.size.item(), want.size, 1e-12);
    EXPECT_NEAR(got.centroid.item(), want.centroid, 1e-12);
    EXPECT_NEAR(got.spread.item(), want.spread, 1e-12);
    EXPECT_NEAR(got.length.item(), want.length, 1e-12);
    EXPECT_NEAR(got.ratio.item(), want.ratio, 1e-12);
    EXPECT_NEAR(got.total.item(), want.size + want.centroid + want.spread + want.length + want.ratio, 1e-11);
    EXPECT_NE(want.centroid, 0);
    EXPECT_NE(want.ratio, 0);
    EXPECT_GT(want.log_region, 0);
    EXPECT_GT(want.linear_region, 0);
  }
}

TEST(DescriptorLossGradcheck, EveryTermOnOddShapesBothBarrierRegions) {
  const int64_t N = 2, K = 4, H = 7, W = 9;
  const Tensor lab = heart_labels(N, H, W);
  for (int term = 0; term < 6; ++term) {
    DescriptorLossConfig cfg = paper5_descriptor_config("acdc");
    cfg.reference_size = 24;
    cfg.size = term == 0 || term == 5;
    cfg.centroid = term == 1 || term == 5;
    cfg.spread = term == 2 || term == 5;
    cfg.length = term == 3 || term == 5;
    if (term != 4 && term != 5) cfg.length_ratios.clear();
    const DescriptorBounds b = descriptor_bounds(lab, K, cfg);
    for (double t : {1.0, 6.0}) {
      if (term == 5) {  // both barrier regions are exercised
        const Direct r = direct_loss(softmax(random_tensor({N, K, H, W}, 11 + term, -2, 2, 0.05, false), 1), b, t);
        EXPECT_GT(r.log_region, 0);
        EXPECT_GT(r.linear_region, 0);
      }
      GradcheckOptions o;
      o.atol = 1e-7;
      o.rtol = 1e-4;
      EXPECT_GRADCHECK(([b, cfg, t](const std::vector<Tensor>& in) {
                         return descriptor_loss(softmax(in[0], 1), b, cfg, t).total;
                       }),
                       std::vector<Tensor>{random_tensor({N, K, H, W}, 11 + term, -2, 2)}, o);
    }
  }
}

TEST(DescriptorLossGradcheck, PromiseSingleClassAndNonContiguousClasses) {
  const Tensor lab = heart_labels(1, 11, 13);
  DescriptorLossConfig cfg;
  cfg.classes = {1, 3};  // two narrows concatenated
  cfg.reference_size = 32;
  const DescriptorBounds b = descriptor_bounds(lab, 4, cfg);
  EXPECT_GRADCHECK(([b, cfg](const std::vector<Tensor>& in) { return descriptor_loss(softmax(in[0], 1), b, cfg, 2.0).total; }),
                   std::vector<Tensor>{random_tensor({1, 4, 11, 13}, 5, -2, 2)}, GradcheckOptions{});
  const Tensor bin = Tensor::from_labels(std::vector<int64_t>(lab.to_labels()), {1, 11, 13});
  std::vector<int64_t> v = bin.to_labels();
  for (auto& x : v) x = x == 3;
  const Tensor pl = Tensor::from_labels(v, {1, 11, 13});
  const DescriptorLossConfig pc = paper5_descriptor_config("promise12");
  const DescriptorBounds pb = descriptor_bounds(pl, 2, pc);
  EXPECT_GRADCHECK(([pb, pc](const std::vector<Tensor>& in) { return descriptor_loss(softmax(in[0], 1), pb, pc, 1.0).total; }),
                   std::vector<Tensor>{random_tensor({1, 2, 11, 13}, 6, -2, 2)}, GradcheckOptions{});
}

TEST(DescriptorLoss, AbsentClassHasNoCentroidOrDistanceTerm) {
  const Tensor lab = heart_labels(1, 16, 16, /*absent=*/1);
  DescriptorLossConfig cfg = paper5_descriptor_config("acdc");
  cfg.size = cfg.length = false;
  cfg.length_ratios.clear();
  cfg.same_centroid.clear();
  const DescriptorBounds b = descriptor_bounds(lab, 4, cfg);
  // two predictions that differ only in class 1's map: the centroid/distance loss must not change
  Tensor x1 = random_tensor({1, 4, 16, 16}, 9, -1, 1, 0.0, false), x2 = x1.clone();
  for (int64_t i = 0; i < 256; ++i) x2.data<double>()[256 + i] += (i % 16) * 0.3;
  // class 1 moves: renormalising changes the other classes too, so compare against the loss restricted to 2 and 3
  const Tensor p1 = softmax(x1, 1), p2 = softmax(x2, 1);
  DescriptorLossConfig only1 = cfg;
  only1.classes = {1};
  const DescriptorBounds b1 = descriptor_bounds(lab, 4, only1);
  EXPECT_EQ(descriptor_loss(p1, b1, only1, 1.0).total.item(), 0.0);
  EXPECT_EQ(descriptor_loss(p2, b1, only1, 1.0).total.item(), 0.0);
  // size [0, 0]: the absent class's mass is penalised linearly (ψ_t(z) = t·z + const for z ≥ −1/t²)
  DescriptorLossConfig sz = only1;
  sz.size = true;
  sz.centroid = sz.spread = false;
  const DescriptorBounds bs = descriptor_bounds(lab, 4, sz);
  const double S1 = shape_descriptors(narrow(p1, 1, 1, 1)).size.item();
  const double want = 1e-2 / 256 * (psi(-S1, 3.0) + psi(S1, 3.0));
  EXPECT_NEAR(descriptor_loss(p1, bs, sz, 3.0).total.item(), want, 1e-12);
}

TEST(DescriptorLoss, Errors) {
  const Tensor lab = heart_labels(1, 8, 8);
  DescriptorLossConfig cfg = paper5_descriptor_config("acdc");
  const DescriptorBounds b = descriptor_bounds(lab, 4, cfg);
  const Tensor p = softmax(random_tensor({1, 4, 8, 8}, 1, -1, 1, 0.0, false), 1);
  EXPECT_SEG_ERROR(descriptor_loss(p, b, cfg, 0.0), "t must be positive");
  EXPECT_SEG_ERROR(descriptor_loss(softmax(random_tensor({1, 4, 8, 6}, 1, -1, 1, 0.0, false), 1), b, cfg, 1.0),
                   "bounds were made for 8×8");
  EXPECT_SEG_ERROR(descriptor_loss(narrow(p, 1, 0, 3), b, cfg, 1.0), "outside the 3 channels");
  EXPECT_SEG_ERROR(descriptor_bounds(lab, 3, cfg), "outside [0, 3)");  // label 3 with 3 classes
  EXPECT_SEG_ERROR(descriptor_bounds(Tensor::zeros({1, 8, 8}), 4, cfg), "int64");
  DescriptorLossConfig bad = cfg;
  bad.length_ratios = {{.num = 2, .den = 3, .lo = 3, .hi = 2}};
  EXPECT_SEG_ERROR(descriptor_bounds(lab, 4, bad), "lo <= hi");
  bad = cfg;
  bad.classes = {1, 2};
  EXPECT_SEG_ERROR(descriptor_bounds(lab, 4, bad), "not constrained");  // the ratio needs class 3
  EXPECT_SEG_ERROR(paper5_descriptor_config("brats"), "acdc or promise12");
  DescriptorBounds swapped = b;
  std::vector<double> v = b.size.to_vector();
  std::swap(v[2], v[3]);
  swapped.size = Tensor::from_vector(v, b.size.shape());
  EXPECT_SEG_ERROR(descriptor_loss(p, swapped, cfg, 1.0), "lower <= upper");
}

TEST(DescriptorLoss, AloneRecoversATwoClassShapeFromFreeLogits) {
  // No network and no pixel label: free logits (1, 2, 24, 24) start uniform-ish and follow the descriptor loss only
  // (size, centroid, distance, length of a disc); the argmax ends up overlapping the disc.
  const int64_t H = 24, W = 24;
  std::vector<int64_t> v(H * W, 0);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) v[static_cast<size_t>(y * W + x)] = std::hypot(y - 9.0, x - 14.0) < 5.0;
  const Tensor lab = Tensor::from_labels(v, {1, H, W});
  DescriptorLossConfig cfg = paper5_descriptor_config("promise12");
  cfg.reference_size = 256;  // ±1.9 px on C and D at 24²
  cfg.weight = 1.0;
  const DescriptorBounds b = descriptor_bounds(lab, 2, cfg);
  Tensor logits = random_tensor({1, 2, H, W}, 21, -0.1, 0.1, 0.0, true).to(DType::Float32);
  logits.set_requires_grad(true);
  Adam opt({{"logits", logits}}, 0.05, 0.9, 0.99);
  LogBarrierSchedule sched;
  for (int it = 0; it < 400; ++it) {
    Tensor loss = descriptor_loss(softmax(logits, 1), b, cfg, sched.t).total;
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (it % 20 == 19) sched.step();
  }
  const auto lg = logits.to_vector();
  double inter = 0, a = 0, g = 0;
  for (int64_t i = 0; i < H * W; ++i) {
    const bool pred = lg[static_cast<size_t>(H * W + i)] > lg[static_cast<size_t>(i)];
    inter += pred && v[static_cast<size_t>(i)];
    a += pred;
    g += v[static_cast<size_t>(i)];
  }
  EXPECT_GT(2 * inter / (a + g), 0.8) << "Dice of the recovered disc";
}
