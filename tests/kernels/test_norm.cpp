// Batch norm and group norm: gradient checks (train with and without affine, with running stats, eval; group norm
// with several group counts), forward values (PyTorch 1.13, hand-checked), running-stat updates, error paths.
#include "engine/autograd.h"
#include "kernels/norm.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {
Tensor positive(const Shape& s, uint64_t seed) { return random_tensor(s, seed, 0.5, 1.5, 0.0, false); }
}  // namespace

TEST(NormGradcheck, BatchNormTrainAffine) {
  GradcheckOptions o;
  auto f = [](const std::vector<Tensor>& in) {
    return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), true, 0.1, 1e-5);
  };
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 1), random_tensor({3}, 2), random_tensor({3}, 3)}), o);
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 4), random_tensor({4}, 5),
                                           random_tensor({4}, 6)}), o);
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({5, 3}, 7), random_tensor({3}, 8), random_tensor({3}, 9)}), o);
}

TEST(NormGradcheck, BatchNormTrainNoAffineWithRunningStats) {
  GradcheckOptions o;
  Tensor rm = Tensor::zeros({3}, DType::Float64), rv = Tensor::ones({3}, DType::Float64);
  auto f = [rm, rv](const std::vector<Tensor>& in) {
    return batch_norm(in[0], Tensor(), Tensor(), rm, rv, true, 0.1, 1e-3);
  };
  EXPECT_GRADCHECK(f, std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 10)}, o);
  // Weight only (bias undefined) on a 3-D input.
  auto g = [](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], Tensor(), Tensor(), Tensor(), true); };
  EXPECT_GRADCHECK(g, (std::vector<Tensor>{random_tensor({2, 2, 3, 5, 6}, 11), random_tensor({2}, 12)}), o);
}

TEST(NormGradcheck, BatchNormEval) {
  GradcheckOptions o;
  Tensor rm = random_tensor({4}, 13, -1, 1, 0, false), rv = positive({4}, 14);
  auto f = [rm, rv](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], rm, rv, false); };
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 15), random_tensor({4}, 16),
                                           random_tensor({4}, 17)}), o);
  auto g = [rm, rv](const std::vector<Tensor>& in) { return batch_norm(in[0], Tensor(), Tensor(), rm, rv, false); };
  EXPECT_GRADCHECK(g, std::vector<Tensor>{random_tensor({1, 4, 5, 7}, 18)}, o);
}

TEST(NormGradcheck, GroupNorm) {
  GradcheckOptions o;
  auto gn = [](int64_t G, bool affine) {
    return [G, affine](const std::vector<Tensor>& in) {
      return group_norm(in[0], G, affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), 1e-5);
    };
  };
  for (int64_t G : {1, 3})
    EXPECT_GRADCHECK(gn(G, true), (std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 20 + G), random_tensor({3}, 30 + G),
                                                      random_tensor({3}, 40 + G)}), o);
  for (int64_t G : {1, 2, 4})
    EXPECT_GRADCHECK(gn(G, true), (std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 50 + G),
                                                      random_tensor({4}, 60 + G), random_tensor({4}, 70 + G)}), o);
  EXPECT_GRADCHECK(gn(2, false), std::vector<Tensor>{random_tensor({2, 4, 3, 5}, 80)}, o);
}

TEST(Norm, BatchNormTrainValuesAndRunningStats) {
  // One channel holding 1, 2, 3, 4 over (N=2, H=2): mean 2.5, biased var 1.25 (PyTorch 1.13 values).
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 1, 2, 1}, DType::Float64);
  Tensor rm = Tensor::zeros({1}, DType::Float64), rv = Tensor::ones({1}, DType::Float64);
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true);
  expect_values(y, {-1.3416354200, -0.4472118067, 0.4472118067, 1.3416354200}, 1e-9);
  EXPECT_NEAR(rm.item(), 0.25, 1e-15);              // 0.9·0 + 0.1·2.5
  EXPECT_NEAR(rv.item(), 0.9 + 0.1 * 5.0 / 3, 1e-15);  // unbiased variance 5/3
  Tensor w = Tensor::full({1}, 2.0, DType::Float64), b = Tensor::full({1}, 1.0, DType::Float64);
  expect_values(batch_norm(x, w, b, Tensor(), Tensor(), true),
                {1 - 2 * 1.3416354200, 1 - 2 * 0.4472118067, 1 + 2 * 0.4472118067, 1 + 2 * 1.3416354200}, 1e-9);
}

TEST(Norm, BatchNormEvalUsesRunningStats) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {1, 2, 3}, DType::Float64);
  Tensor rm = Tensor::from_vector({1, -1}, {2}, DType::Float64), rv = Tensor::from_vector({4, 0.25}, {2}, DType::Float64);
  Tensor w = Tensor::from_vector({1, 2}, {2}, DType::Float64), b = Tensor::from_vector({0, 10}, {2}, DType::Float64);
  Tensor y = batch_norm(x, w, b, rm, rv, false, 0.1, 0.0);
  expect_values(y, {0, 0.5, 1, 10 + 2 * 5 / 0.5, 10 + 2 * 6 / 0.5, 10 + 2 * 7 / 0.5});
  expect_values(rm, {1, -1});  // untouched in evaluation mode
  expect_values(rv, {4, 0.25});
}

TEST(Norm, BatchNormLargeMeanIsAccurate) {
  // |mean| ≫ std: the shifted sums keep the variance exact where Σx² − (Σx)²/n would lose it.
  Tensor x = Tensor::from_vector({1e8 + 1, 1e8 + 2, 1e8 + 3, 1e8 + 4}, {4, 1}, DType::Float64);
  expect_values(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.0),
                {-1.3416407865, -0.4472135955, 0.4472135955, 1.3416407865}, 1e-9);
}

TEST(Norm, GroupNormValues) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {1, 2, 2}, DType::Float64);
  // One group: the four values normalise together (mean 2.5, var 1.25).
  expect_values(group_norm(x, 1), {-1.3416354200, -0.4472118067, 0.4472118067, 1.3416354200}, 1e-9);
  // Two groups (instance norm): each channel [a, a+1] -> ±0.5/sqrt(0.25 + eps), then the affine map.
  const double v = 0.5 / std::sqrt(0.25 + 1e-5);
  Tensor w = Tensor::from_vector({1, 3}, {2}, DType::Float64), b = Tensor::from_vector({0, -1}, {2}, DType::Float64);
  expect_values(group_norm(x, 2, w, b), {-v, v, -1 - 3 * v, -1 + 3 * v}, 1e-12);
}

TEST(Norm, Float32MatchesFloat64) {
  Tensor x = random_tensor({2, 4, 3, 5, 6}, 90, -2, 3, 0, false);
  Tensor w = positive({4}, 91), b = random_tensor({4}, 92, -1, 1, 0, false);
  auto f32 = [](const Tensor& t) { return t.to(DType::Float32); };
  EXPECT_LT(max_abs_diff(batch_norm(x, w, b, Tensor(), Tensor(), true),
                         batch_norm(f32(x), f32(w), f32(b), Tensor(), Tensor(), true)), 1e-5);
  EXPECT_LT(max_abs_diff(group_norm(x, 2, w, b), group_norm(f32(x), 2, f32(w), f32(b))), 1e-5);
  // Backward in float32 too.
  Tensor xf = f32(x);
  xf.set_requires_grad(true);
  Tensor y = group_norm(xf, 4, f32(w), f32(b));
  y.backward(Tensor::ones(y.shape(), DType::Float32));
  for (double g : xf.grad().to_vector()) EXPECT_NEAR(g, 0.0, 1e-4);  // d/dx Σ normalise(x) = 0
}

TEST(NormErrors, NameTheOp) {
  Tensor x = Tensor::zeros({2, 4, 3, 3}, DType::Float64);
  Tensor c4 = Tensor::ones({4}, DType::Float64);
  EXPECT_SEG_ERROR(batch_norm(Tensor::zeros({2, 4}, DType::Int64), Tensor(), Tensor(), Tensor(), Tensor(), true),
                   "batch_norm");
  EXPECT_SEG_ERROR(batch_norm(Tensor::zeros({4}, DType::Float64), Tensor(), Tensor(), Tensor(), Tensor(), true),
                   "batch_norm");
  EXPECT_SEG_ERROR(batch_norm(x, Tensor::ones({3}, DType::Float64), Tensor(), Tensor(), Tensor(), true), "batch_norm");
  EXPECT_SEG_ERROR(batch_norm(x, c4.to(DType::Float32), Tensor(), Tensor(), Tensor(), true), "batch_norm");
  EXPECT_SEG_ERROR(batch_norm(x, c4, c4, Tensor(), Tensor(), false), "batch_norm");  // eval needs running stats
  EXPECT_SEG_ERROR(batch_norm(x, c4, c4, c4, Tensor(), true), "batch_norm");
  EXPECT_SEG_ERROR(batch_norm(Tensor::zeros({1, 4, 1, 1}, DType::Float64), c4, c4, Tensor(), Tensor(), true),
                   "batch_norm");  // one value per channel
  EXPECT_SEG_ERROR(group_norm(x, 3), "group_norm");
  EXPECT_SEG_ERROR(group_norm(x, 0), "group_norm");
  EXPECT_SEG_ERROR(group_norm(x, 2, Tensor::ones({2}, DType::Float64)), "group_norm");
  EXPECT_SEG_ERROR(group_norm(Tensor::zeros({2, 4}, DType::Int64), 2), "group_norm");
}
