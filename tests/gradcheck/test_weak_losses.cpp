// Gradient and value checks of the weak-supervision losses of paper 1 (partial cross entropy, size penalty).
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "kernels/softmax.h"
#include "losses/partial_ce.h"
#include "losses/size_penalty.h"

using namespace seg;
using namespace seg::testing;

TEST(Gradcheck, PartialCrossEntropy) {
  Tensor seeds = Tensor::zeros({2, 3, 5}, DType::Float64);
  seeds.data<double>()[1] = 1;
  seeds.data<double>()[17] = 1;
  seeds.data<double>()[29] = 1;
  auto f = [&](const std::vector<Tensor>& in) { return partial_cross_entropy(log_softmax(in[0], 1), seeds, 1); };
  auto r = gradcheck(f, {random_tensor({2, 3, 3, 5}, 81)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(PartialCrossEntropy, ValueAndEmptySeeds) {
  // two classes, log p_1 = log 0.25 at the single seed
  Tensor lp = Tensor::from_vector({std::log(0.75), std::log(0.5), std::log(0.25), std::log(0.5)}, {1, 2, 1, 2}, DType::Float64);
  Tensor seeds = Tensor::from_vector({1, 0}, {1, 1, 2}, DType::Float64);
  EXPECT_NEAR(partial_cross_entropy(lp, seeds, 1).item(), -std::log(0.25), 1e-12);
  EXPECT_EQ(partial_cross_entropy(lp, Tensor::zeros({1, 1, 2}, DType::Float64), 1).item(), 0.0);
  EXPECT_THROW(partial_cross_entropy(lp, Tensor::zeros({1, 2, 2}, DType::Float64), 1), Error);
  EXPECT_THROW(partial_cross_entropy(lp, seeds, 2), Error);
}

TEST(Gradcheck, SizePenaltyBelowInsideAndAboveTheBounds) {
  // p in (0,1) over 3×4 = 12 pixels: V ≈ 6 per map; bounds put maps below, inside and above
  Tensor b = Tensor::from_vector({8, 10, 2, 9, 0, 3, 0, 0, 7, 7, 1, 2}, {2, 3, 2}, DType::Float64);
  auto f = [&](const std::vector<Tensor>& in) { return size_penalty(in[0], b); };
  auto r = gradcheck(f, {random_tensor({2, 3, 3, 4}, 82, 0.2, 0.8)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(SizePenalty, MatchesTheDefinition) {
  Tensor p = Tensor::full({1, 2, 2, 2}, 0.5, DType::Float64);  // V = 2 for both maps
  Tensor b = Tensor::from_vector({3, 5, 0, 1}, {1, 2, 2}, DType::Float64);
  // map 0: V < a → (2−3)² = 1; map 1: V > b → (2−1)² = 1; mean 1, divided by H·W = 4
  EXPECT_NEAR(size_penalty(p, b).item(), 0.25, 1e-12);
  EXPECT_THROW(size_penalty(p, Tensor::zeros({1, 2}, DType::Float64)), Error);
}
