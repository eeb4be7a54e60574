// Paper 3's composed losses (losses/egcnn_losses.h): float64 central-difference gradchecks on odd 3-D shapes for the
// main Dice, the edge loss, the gradient magnitude, the dual-task consistency (fixed Gumbel noise) and the whole of
// eq. (3); hand values (a unit step's gradient magnitude, a one-voxel object's Sobel edges); a perfect prediction
// costs ~0; the hard (straight-through) sample's forward value; errors. CUDA-vs-CPU: the CPU half always runs, the
// comparison skips without a GPU. Self-contained, so it can move with the test reorganisation as it is.
#include <cmath>

// rng.h first: its unqualified log/sqrt would otherwise also see seg::log(Tensor) from elementwise.h.
#include "engine/rng.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "tests/support/kernel_test_util.h"
#include "kernels/elementwise.h"
#include "kernels/gumbel.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "losses/egcnn_losses.h"

using namespace seg;
using namespace seg::testing;

namespace {
// (N, K, D, H, W) one-hot of a seeded class pattern, and the matching int64 labels.
Tensor one_hot5(const Shape& s, uint64_t seed, Tensor* labels = nullptr) {
  const int64_t N = s[0], K = s[1], V = s[2] * s[3] * s[4];
  Tensor t = Tensor::zeros(s, DType::Float64);
  std::vector<int64_t> lab(static_cast<size_t>(N * V));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < V; ++i) {
      // blocky classes (runs of 3 voxels along x), so there are both edges and interiors
      const int64_t k = static_cast<int64_t>(((static_cast<uint64_t>(i / 3 + n * 5) * 2654435761u) + seed) >> 7) % K;
      t.data<double>()[(n * K + k) * V + i] = 1;
      lab[static_cast<size_t>(n * V + i)] = k;
    }
  if (labels) *labels = Tensor::from_labels(lab, {N, s[2], s[3], s[4]});
  return t;
}
Tensor binary5(const Shape& s, uint64_t seed) {
  Tensor t = Tensor::empty(s, DType::Float64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = ((static_cast<uint64_t>(i) * 40503u + seed) >> 3) % 4 == 0;
  return t;
}
EgcnnTargets targets(const Tensor& onehot) {
  EgcnnTargets t;
  t.onehot = onehot;
  return t;
}
Tensor gumbel_fixed(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return gumbel_noise(s, g, DType::Float64);
}
}  // namespace

TEST(EgcnnLossGradcheck, MainDiceOnOddShapes) {
  for (const Shape& s : {Shape{2, 3, 3, 4, 5}, Shape{1, 4, 5, 3, 3}}) {
    const Tensor y = one_hot5(s, 1);
    EXPECT_GRADCHECK([y](const std::vector<Tensor>& in) { return main_dice_loss(in[0], y); },
                     std::vector<Tensor>{random_tensor(s, 2, -2, 2)}, GradcheckOptions{});
  }
}

TEST(EgcnnLossGradcheck, EdgeDicePlusBalancedBce) {
  for (const Shape& s : {Shape{1, 1, 3, 5, 4}, Shape{2, 2, 3, 3, 5}}) {
    const Tensor e = binary5(s, 3);
    EXPECT_GRADCHECK([e](const std::vector<Tensor>& in) { return edge_loss(in[0], e, 0.7, 1.3); },
                     std::vector<Tensor>{random_tensor(s, 4, -3, 3)}, GradcheckOptions{});
  }
}

TEST(EgcnnLossGradcheck, GradientMagnitude) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return gradient_magnitude3d(in[0], 1e-3); },
                   std::vector<Tensor>{random_tensor({1, 2, 3, 4, 5}, 5)}, GradcheckOptions{});
}

TEST(EgcnnLossGradcheck, DualTaskConsistencyWithFixedNoise) {
  for (double tau : {0.5, 1.0}) {
    const Shape s{1, 3, 3, 5, 4};
    const Tensor y = one_hot5(s, 6), g = gumbel_fixed(s, 7);
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return dual_task_loss_with_noise(in[0], y, g, tau, false); },
                     std::vector<Tensor>{random_tensor(s, 8, -2, 2)}, GradcheckOptions{});
  }
}

TEST(EgcnnLossGradcheck, WholeLossEquationThreeWithEveryTerm) {
  const Shape s{1, 3, 3, 4, 5};
  Tensor labels;
  const Tensor y = one_hot5(s, 9, &labels);
  EgcnnLossConfig cfg;
  cfg.main_ce = 0.5;
  cfg.edge_dice = 0.8;
  cfg.dual = 1.5;
  for (int64_t E : {1, 2}) {
    // A fresh generator per call: every evaluation of the loss draws the same Gumbel noise.
    auto f = [&](const std::vector<Tensor>& in) {
      Generator gen(13);
      return egcnn_loss(in[0], in[1], {.onehot = y, .labels = labels, .edges = Tensor()}, cfg, gen).total;
    };
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor(s, 10, -2, 2), random_tensor({1, E, 3, 4, 5}, 11, -2, 2)}),
                     GradcheckOptions{});
  }
}

TEST(EgcnnLoss, UnitStepHasGradientMagnitudeOneOnBothSides) {
  // q = 1 where x ≥ 3 on a 7×7×7 grid: the Sobel x-derivative /16 is 1 at x = 2 and x = 3, and at x = 6, where the
  // zero padding makes a second step (away from the y and z borders).
  Tensor q = Tensor::zeros({1, 1, 7, 7, 7}, DType::Float64);
  for (int64_t i = 0; i < q.numel(); ++i) q.data<double>()[i] = (i % 7) >= 3;
  const std::vector<double> g = gradient_magnitude3d(q, 0.0).to_vector();
  for (int64_t z = 1; z < 6; ++z)
    for (int64_t y = 1; y < 6; ++y)
      for (int64_t x = 0; x < 7; ++x)
        EXPECT_NEAR(g[static_cast<size_t>((z * 7 + y) * 7 + x)], (x == 2 || x == 3 || x == 6) ? 1.0 : 0.0, 1e-12)
            << z << "," << y << "," << x;
}

TEST(EgcnnLoss, OneVoxelObjectHasTwentySixEdgeNeighboursAndNoneAtItself) {
  Tensor y = Tensor::zeros({1, 3, 5, 5, 5}, DType::Float32);
  for (int64_t i = 0; i < 125; ++i) y.data<float>()[i] = 1;  // background
  y.data<float>()[62] = 0;                                   // centre: class 2
  y.data<float>()[2 * 125 + 62] = 1;
  const std::vector<double> per = edge_targets(y, true).to_vector(), uni = edge_targets(y, false).to_vector();
  ASSERT_EQ(per.size(), 2u * 125);
  ASSERT_EQ(uni.size(), 125u);
  int n = 0;
  for (int64_t z = 0; z < 5; ++z)
    for (int64_t r = 0; r < 5; ++r)
      for (int64_t x = 0; x < 5; ++x) {
        const size_t i = static_cast<size_t>((z * 5 + r) * 5 + x);
        const bool nb = std::abs(z - 2) <= 1 && std::abs(r - 2) <= 1 && std::abs(x - 2) <= 1 && i != 62;
        EXPECT_EQ(per[i], 0.0);              // class 1 is absent
        EXPECT_EQ(per[125 + i], nb ? 1 : 0);  // class 2
        EXPECT_EQ(uni[i], nb ? 1 : 0);
        n += nb;
      }
  EXPECT_EQ(n, 26);
}

TEST(EgcnnLoss, PerfectPredictionsCostNothingAndWrongOnesCost) {
  const Shape s{1, 3, 5, 6, 7};
  const Tensor y = one_hot5(s, 12);
  Generator g(1);
  const Tensor perfect = scale(y, 40.0);  // logits: the sample is one-hot to rounding at τ = 0.5
  EXPECT_LT(dual_task_loss(perfect, y, 0.5, false, g).item(), 1e-9);
  EXPECT_LT(main_dice_loss(perfect, y).item(), 1e-9);
  const Tensor wrong = scale(one_hot5(s, 99), 40.0);
  EXPECT_GT(dual_task_loss(wrong, y, 0.5, false, g).item(), 0.05);
  // The hard sample: forward = L1 between G of the one-hot argmax and G(y).
  const Tensor logits = random_tensor(s, 3, -2, 2, false), noise = gumbel_fixed(s, 4);
  const Tensor hard = one_hot_argmax(add(logits, noise), 1);
  const double want = mean_all(abs(sub(gradient_magnitude3d(hard), gradient_magnitude3d(y)))).item();
  EXPECT_NEAR(dual_task_loss_with_noise(logits, y, noise, 0.5, true).item(), want, 1e-12);
}

TEST(EgcnnLoss, TermsAreNamedAndTheMainOnlyLossHasNoEdgeTerms) {
  const Shape s{1, 2, 3, 4, 5};
  const Tensor y = one_hot5(s, 2), x = random_tensor(s, 1, -1, 1, false);
  Generator g(0);
  const EgcnnLossTerms main_only = egcnn_loss(x, Tensor(), targets(y), {}, g);
  ASSERT_EQ(main_only.parts.size(), 1u);
  EXPECT_EQ(main_only.parts[0].first, "dice");
  EXPECT_NEAR(main_only.total.item(), main_dice_loss(x, y, 1e-5).item(), 1e-15);
  const Tensor e = random_tensor({1, 1, 3, 4, 5}, 2, -1, 1, false);
  const EgcnnLossTerms all = egcnn_loss(x, e, targets(y), {}, g);
  ASSERT_EQ(all.parts.size(), 4u);
  double sum = 0;
  for (const auto& [n, v] : all.parts) sum += v;  // all λ = 1
  EXPECT_NEAR(all.total.item(), sum, 1e-12);
  EXPECT_NEAR(all.parts[1].second, edge_loss(e, edge_targets(y, false), 1, 0, 1e-5).item(), 1e-12);
}

TEST(EgcnnLoss, Errors) {
  const Tensor y = one_hot5({1, 2, 3, 4, 5}, 1);
  Generator g(0);
  EXPECT_SEG_ERROR(main_dice_loss(Tensor::zeros({1, 3, 3, 4, 5}, DType::Float64), y), "main_dice_loss");
  EXPECT_SEG_ERROR(edge_loss(Tensor::zeros({1, 1, 3, 4, 4}, DType::Float64), Tensor::zeros({1, 1, 3, 4, 5}, DType::Float64), 1, 1),
                   "edge_loss");
  EgcnnLossConfig ce;
  ce.main_ce = 1;
  EXPECT_SEG_ERROR(egcnn_loss(Tensor::zeros({1, 2, 3, 4, 5}, DType::Float64), Tensor(), targets(y), ce, g), "labels");
  EXPECT_SEG_ERROR(egcnn_loss(Tensor::zeros({1, 2, 3, 4, 5}, DType::Float64), Tensor::zeros({1, 3, 3, 4, 5}, DType::Float64),
                              targets(y), {}, g),
                   "edge targets");
  EXPECT_SEG_ERROR(dual_task_loss(Tensor::zeros({1, 2, 3, 4, 5}, DType::Float64), y, 0.0, false, g), "tau");
}

TEST(EgcnnLoss, CudaMatchesCpuInFloat32) {
  // CPU half: the float32 loss and its gradients (what training runs) are finite.
  const Shape s{2, 3, 5, 6, 7};
  const Tensor y = one_hot5(s, 4).to(DType::Float32);
  Tensor x = random_tensor(s, 5, -2, 2, false).to(DType::Float32), e = random_tensor({2, 1, 5, 6, 7}, 6, -2, 2, false).to(DType::Float32);
  x.set_requires_grad(true);
  e.set_requires_grad(true);
  Generator g1(3);
  Tensor l = egcnn_loss(x, e, targets(y), {}, g1).total;
  l.backward();
  ASSERT_TRUE(std::isfinite(l.item()));
  for (double v : x.grad().to_vector()) ASSERT_TRUE(std::isfinite(v));
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  Tensor xc = x.detach().to(Device::CUDA), ec = e.detach().to(Device::CUDA);
  xc.set_requires_grad(true);
  ec.set_requires_grad(true);
  Generator g2(3);  // the counter-based Gumbel noise is the same on both devices
  Tensor lc = egcnn_loss(xc, ec, targets(y.to(Device::CUDA)), {}, g2).total;
  lc.backward();
  EXPECT_NEAR(lc.item(), l.item(), 1e-4 * std::fabs(l.item()) + 1e-5);
  const auto a = xc.grad().to(Device::CPU).to_vector(), b = x.grad().to_vector();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-3 * std::fabs(b[i]) + 1e-6) << i;
  const auto c = ec.grad().to(Device::CPU).to_vector(), d = e.grad().to_vector();
  for (size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], d[i], 1e-3 * std::fabs(d[i]) + 1e-6) << i;
}
