// Paper 4's composed losses (losses/multitask.h): float64 gradchecks through the heads' activations (log-softmax for
// mask and contour, sigmoid for distance) on odd shapes for every input that takes a gradient, hand values from the
// definitions, absent terms, weights, and error paths. Self-contained (moves as one file with the gradcheck suites).
#include <cmath>

#include "tests/support/kernel_test_util.h"
#include "kernels/elementwise.h"
#include "kernels/softmax.h"
#include "losses/multitask.h"

using namespace seg;
using namespace seg::testing;

namespace {
Tensor labels01(int64_t N, int64_t H, int64_t W, uint64_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(N * H * W));
  for (size_t i = 0; i < v.size(); ++i) v[i] = ((static_cast<uint64_t>(i) * 2654435761u + seed) >> 4) % 3 == 0;
  return Tensor::from_labels(v, {N, H, W});
}
Tensor unit_interval(const Shape& s, uint64_t seed) {  // distance targets in [0, 1]
  Tensor t = random_tensor(s, seed, 0.0, 1.0, 0.0, false);
  return t;
}
}  // namespace

TEST(MultitaskLossGradcheck, MaskPlusContourThroughLogSoftmax) {
  const int64_t N = 2, H = 5, W = 7;
  const Tensor tm = labels01(N, H, W, 1), tc = labels01(N, H, W, 2);
  auto f = [&](const std::vector<Tensor>& in) {
    return multitask_loss(log_softmax(in[0], 1), tm, log_softmax(in[1], 1), tc, Tensor(), Tensor()).total;
  };
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({N, 2, H, W}, 3, -2, 2), random_tensor({N, 2, H, W}, 4, -2, 2)}),
                   GradcheckOptions{});
}

TEST(MultitaskLossGradcheck, MaskPlusDistanceThroughSigmoid) {
  const int64_t N = 3, H = 3, W = 5;
  const Tensor tm = labels01(N, H, W, 5), td = unit_interval({N, 1, H, W}, 6);
  auto f = [&](const std::vector<Tensor>& in) {
    return multitask_loss(log_softmax(in[0], 1), tm, Tensor(), Tensor(), sigmoid(in[1]), td, {.distance = 0.7}).total;
  };
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({N, 2, H, W}, 7, -2, 2), random_tensor({N, 1, H, W}, 8, -3, 3)}),
                   GradcheckOptions{});
}

TEST(MultitaskLossGradcheck, AllThreeTermsPsiNet) {
  const int64_t N = 1, H = 4, W = 3;
  const Tensor tm = labels01(N, H, W, 9), tc = labels01(N, H, W, 10), td = unit_interval({N, 1, H, W}, 11);
  auto f = [&](const std::vector<Tensor>& in) {
    return multitask_loss(log_softmax(in[0], 1), tm, log_softmax(in[1], 1), tc, sigmoid(in[2]), td,
                          {.mask = 1.3, .contour = 0.4, .distance = 2.0})
        .total;
  };
  EXPECT_GRADCHECK(f,
                   (std::vector<Tensor>{random_tensor({N, 2, H, W}, 12, -2, 2), random_tensor({N, 2, H, W}, 13, -2, 2),
                                        random_tensor({N, 1, H, W}, 14, -2, 2)}),
                   GradcheckOptions{});
}

TEST(MultitaskLoss, HandValues) {
  // One sample, 1×2 pixels. Mask log-probs: pixel 0 [log .8, log .2] (target 0), pixel 1 [log .4, log .6] (target 1):
  // NLL = −(log .8 + log .6)/2. Contour: both pixels [log .5, log .5] → log 2. Distance: predictions .25, .5 against
  // .75, .5 → MSE = (.25 + 0)/2 = .125.
  const Tensor mask = Tensor::from_vector({std::log(.8), std::log(.4), std::log(.2), std::log(.6)}, {1, 2, 1, 2}, DType::Float64);
  const Tensor tm = Tensor::from_labels({0, 1}, {1, 1, 2});
  const Tensor contour = Tensor::full({1, 2, 1, 2}, std::log(.5), DType::Float64);
  const Tensor tc = Tensor::from_labels({1, 0}, {1, 1, 2});
  const Tensor dist = Tensor::from_vector({.25, .5}, {1, 1, 1, 2}, DType::Float64);
  const Tensor td = Tensor::from_vector({.75, .5}, {1, 1, 1, 2}, DType::Float64);
  const double nll_m = -(std::log(.8) + std::log(.6)) / 2, nll_c = std::log(2.0), mse = .125;

  const MultitaskLoss mc = multitask_loss(mask, tm, contour, tc, Tensor(), Tensor());
  EXPECT_NEAR(mc.total.item(), nll_m + nll_c, 1e-15);
  EXPECT_NEAR(mc.mask.item(), nll_m, 1e-15);
  EXPECT_NEAR(mc.contour.item(), nll_c, 1e-15);
  EXPECT_FALSE(mc.distance.defined());

  const MultitaskLoss md = multitask_loss(mask, tm, Tensor(), Tensor(), dist, td);
  EXPECT_NEAR(md.total.item(), nll_m + mse, 1e-15);
  EXPECT_FALSE(md.contour.defined());

  const MultitaskLoss m = multitask_loss(mask, tm, Tensor(), Tensor(), Tensor(), Tensor());
  EXPECT_NEAR(m.total.item(), nll_m, 1e-15);

  const MultitaskLoss w = multitask_loss(mask, tm, contour, tc, dist, td, {.mask = 2, .contour = 0.5, .distance = 3});
  EXPECT_NEAR(w.total.item(), 2 * nll_m + 0.5 * nll_c + 3 * mse, 1e-15);
}

TEST(MultitaskLoss, Errors) {
  const Tensor mask = Tensor::zeros({1, 2, 3, 4}, DType::Float64);
  const Tensor tm = Tensor::from_labels(std::vector<int64_t>(12, 0), {1, 3, 4});
  EXPECT_SEG_ERROR(multitask_loss(Tensor(), tm, Tensor(), Tensor(), Tensor(), Tensor()), "mask prediction is required");
  EXPECT_SEG_ERROR(multitask_loss(Tensor::zeros({1, 3, 3, 4}, DType::Float64), tm, Tensor(), Tensor(), Tensor(), Tensor()),
                   "mask must be (N, 2, H, W)");
  EXPECT_SEG_ERROR(multitask_loss(mask, Tensor::from_labels(std::vector<int64_t>(8, 0), {1, 2, 4}), Tensor(), Tensor(),
                                  Tensor(), Tensor()),
                   "mask target");
  EXPECT_SEG_ERROR(multitask_loss(mask, tm, mask, Tensor(), Tensor(), Tensor()), "without its target");
  EXPECT_SEG_ERROR(multitask_loss(mask, tm, Tensor(), Tensor(), Tensor::zeros({1, 1, 3, 4}, DType::Float64),
                                  Tensor::zeros({1, 1, 3, 5}, DType::Float64)),
                   "distance target");
  EXPECT_SEG_ERROR(multitask_loss(mask, tm, Tensor(), Tensor(), Tensor::zeros({1, 1, 3, 5}, DType::Float64),
                                  Tensor::zeros({1, 1, 3, 5}, DType::Float64)),
                   "differ in size");
}
