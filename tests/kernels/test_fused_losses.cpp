// Fused losses (kernels/fused_losses.h): balanced BCE, Dice and the log-barrier; gradient checks on odd shapes, hand
// values from the definitions, error paths.
#include <cmath>

#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/fused_losses.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {
Tensor binary_target(const Shape& s, uint64_t seed) {
  Tensor t = Tensor::empty(s, DType::Float64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = ((static_cast<uint64_t>(i) * 40503u + seed) >> 2) % 3 == 0;
  return t;
}
// One-hot of (N, K, H, W) from a class pattern.
Tensor one_hot(int64_t N, int64_t K, int64_t H, int64_t W, uint64_t seed) {
  Tensor t = Tensor::zeros({N, K, H, W}, DType::Float64);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < H * W; ++i) {
      const int64_t k = static_cast<int64_t>((static_cast<uint64_t>(i + n * 7) * 2654435761u + seed) >> 5) % K;
      t.data<double>()[(n * K + k) * H * W + i] = 1;
    }
  return t;
}
double log_sig(double x) { return -std::log1p(std::exp(-x)); }
}  // namespace

// ---------------------------------------------------------------- balanced BCE
TEST(BalancedBCE, HandValues) {
  // target [1, 0, 0]: β = 2/3; loss = −(β·log σ(0) + (1−β)·(log σ(−2) + log σ(1)))/3.
  Tensor x = Tensor::from_vector({0, 2, -1}, {3}, DType::Float64), t = Tensor::from_vector({1, 0, 0}, {3}, DType::Float64);
  const double want = -(2.0 / 3 * log_sig(0) + 1.0 / 3 * (log_sig(-2) + log_sig(1))) / 3;
  EXPECT_NEAR(balanced_bce_with_logits(x, t).item(), want, 1e-15);
  // Large logits stay finite: −(β·log σ(−1000))/2 with β = 1/2 → 1000/4.
  Tensor big = Tensor::from_vector({-1000, -1000}, {2}, DType::Float32), tb = Tensor::from_vector({1, 0}, {2}, DType::Float32);
  EXPECT_NEAR(balanced_bce_with_logits(big, tb).item(), 250.0, 1e-3);
}

TEST(BalancedBCEGradcheck, OddShapes) {
  for (const Shape& s : {Shape{2, 1, 5, 7}, Shape{1, 3, 3, 4, 5}}) {
    const Tensor t = binary_target(s, 3);
    EXPECT_GRADCHECK([t](const std::vector<Tensor>& in) { return balanced_bce_with_logits(in[0], t); },
                     std::vector<Tensor>{random_tensor(s, 1, -4, 4)}, GradcheckOptions{});
  }
}

TEST(BalancedBCE, Errors) {
  Tensor x = Tensor::zeros({4}, DType::Float64);
  EXPECT_SEG_ERROR(balanced_bce_with_logits(x, Tensor::from_vector({0, 1, 0.5, 1}, {4}, DType::Float64)), "0 and 1");
  EXPECT_SEG_ERROR(balanced_bce_with_logits(x, Tensor::zeros({5}, DType::Float64)), "balanced_bce_with_logits");
  EXPECT_SEG_ERROR(balanced_bce_with_logits(x, Tensor::zeros({4}, DType::Float32)), "balanced_bce_with_logits");
}

// ---------------------------------------------------------------- Dice
TEST(Dice, HandValues) {
  // Two classes over two pixels. Perfect prediction: loss = 1 − (2·1 + ε)/(1 + 1 + ε) = 0.
  Tensor g = Tensor::from_vector({1, 0, 0, 1}, {1, 2, 2}, DType::Float64);
  EXPECT_NEAR(dice_loss(g, g, 1e-6).item(), 0.0, 1e-15);
  // Uniform prediction: each class I = 0.5, P = 1, G = 1 → 1 − (1 + ε)/(2 + ε).
  Tensor p = Tensor::full({1, 2, 2}, 0.5, DType::Float64);
  EXPECT_NEAR(dice_loss(p, g, 1e-3).item(), 1 - 1.001 / 2.001, 1e-15);
  // Sums run over the batch: two samples with the class present in one only.
  Tensor p2 = Tensor::from_vector({1, 0, 0, 0}, {2, 1, 2}, DType::Float64);
  Tensor g2 = Tensor::from_vector({1, 1, 0, 0}, {2, 1, 2}, DType::Float64);
  EXPECT_NEAR(dice_loss(p2, g2, 0).item(), 1 - 2.0 / 3.0, 1e-15);
}

TEST(DiceGradcheck, SoftmaxInput) {
  const Tensor t = one_hot(2, 3, 5, 7, 4);
  EXPECT_GRADCHECK([t](const std::vector<Tensor>& in) { return dice_loss(softmax(in[0], 1), t, 1e-6); },
                   std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 5, -2, 2)}, GradcheckOptions{});
  const Tensor t3 = binary_target({1, 2, 3, 4, 5}, 6);
  EXPECT_GRADCHECK([t3](const std::vector<Tensor>& in) { return dice_loss(in[0], t3, 1.0); },
                   std::vector<Tensor>{random_tensor({1, 2, 3, 4, 5}, 7, 0.05, 1)}, GradcheckOptions{});
}

TEST(Dice, Errors) {
  EXPECT_SEG_ERROR(dice_loss(Tensor::zeros({1, 2, 3}, DType::Float64), Tensor::zeros({1, 2, 4}, DType::Float64)), "dice_loss");
  EXPECT_SEG_ERROR(dice_loss(Tensor::zeros({4}, DType::Float64), Tensor::zeros({4}, DType::Float64)), "dice_loss");
  EXPECT_SEG_ERROR(dice_loss(Tensor::zeros({1, 2}, DType::Float64), Tensor::zeros({1, 2}, DType::Float64), -1), "eps");
}

// ---------------------------------------------------------------- log-barrier
TEST(LogBarrier, HandValuesAndContinuity) {
  const double t = 2, l4 = std::log(4.0);
  Tensor z = Tensor::from_vector({-1, -0.5, 0, 1, -0.25}, {5}, DType::Float64);
  expect_values(log_barrier(z, t), {0, -std::log(0.5) / 2, l4 / 2 + 0.5, 2 + l4 / 2 + 0.5, l4 / 2}, 1e-15);
  // Value and slope meet at z = −1/t² from both sides.
  const double b = -1 / (t * t), h = 1e-7;
  Tensor zz = Tensor::from_vector({b - h, b + h}, {2}, DType::Float64).set_requires_grad(true);
  Tensor y = log_barrier(zz, t);
  const auto v = y.to_vector();
  EXPECT_NEAR(v[0], v[1], 1e-6);
  sum_all(y).backward();
  const auto g = zz.grad().to_vector();
  EXPECT_NEAR(g[0], t, 1e-5);
  EXPECT_EQ(g[1], t);
}

TEST(LogBarrierGradcheck, BothBranches) {
  for (double t : {1.0, 5.0}) {
    // Values in [−3, 1] kept 0.05 from 0; none at the branch point exactly.
    EXPECT_GRADCHECK([t](const std::vector<Tensor>& in) { return log_barrier(in[0], t); },
                     std::vector<Tensor>{random_tensor({3, 5, 7}, 8, -3, 1)}, GradcheckOptions{});
  }
}

TEST(LogBarrier, Errors) {
  EXPECT_SEG_ERROR(log_barrier(Tensor::zeros({2}, DType::Float64), 0), "log_barrier");
  EXPECT_SEG_ERROR(log_barrier(Tensor::from_labels({1}, {1}), 1), "log_barrier");
}
