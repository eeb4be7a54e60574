// Adam against PyTorch's update formula computed by hand, the plateau and polynomial schedules, and the Philox
// generator (reproducible, in range, uniform and normal moments).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/optim.h"
#include "engine/rng.h"

using namespace seg;

TEST(Adam, MatchesTheFormulaForTwoSteps) {
  Tensor p = Tensor::from_vector({1.0}, {1}, DType::Float64);
  p.set_requires_grad(true);
  Adam opt({{"p", p}}, 0.1, 0.9, 0.99, 1e-8);
  double m = 0, v = 0, x = 1.0;
  for (int t = 1; t <= 2; ++t) {
    const double g = t == 1 ? 0.5 : -0.25;
    p.set_grad(Tensor::from_vector({g}, {1}, DType::Float64));
    opt.step();
    m = 0.9 * m + 0.1 * g;
    v = 0.99 * v + 0.01 * g * g;
    x -= 0.1 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.99, t))) + 1e-8);
    EXPECT_NEAR(p.item(), x, 1e-12);
  }
}

TEST(Schedules, PlateauHalvesAfterPatienceAndPolyDecays) {
  Tensor p = Tensor::zeros({1});
  p.set_requires_grad(true);
  Adam opt({{"p", p}}, 1.0);
  ReduceOnPlateau s(opt, 2, 0.5);
  EXPECT_FALSE(s.step(0.5));
  EXPECT_FALSE(s.step(0.4));
  EXPECT_TRUE(s.step(0.3));  // two epochs without improvement
  EXPECT_DOUBLE_EQ(opt.lr(), 0.5);
  EXPECT_FALSE(s.step(0.6));
  EXPECT_DOUBLE_EQ(poly_lr(1.0, 0, 10), 1.0);
  EXPECT_NEAR(poly_lr(1.0, 5, 10), std::pow(0.5, 0.9), 1e-15);
  EXPECT_DOUBLE_EQ(poly_lr(1.0, 10, 10), 0.0);
}

TEST(Philox, ReproducibleInRangeAndWithTheRightMoments) {
  Generator a(42), b(42), c(43);
  Tensor x = Tensor::empty({100000}, DType::Float64), y = Tensor::empty({100000}, DType::Float64);
  fill_uniform(x, a, -1, 3);
  fill_uniform(y, b, -1, 3);
  EXPECT_EQ(x.to_vector(), y.to_vector());
  Tensor z = Tensor::empty({100000}, DType::Float64);
  fill_uniform(z, c, -1, 3);
  EXPECT_NE(x.to_vector(), z.to_vector());
  double s = 0;
  for (double v : x.to_vector()) {
    ASSERT_GT(v, -1);
    ASSERT_LT(v, 3);
    s += v;
  }
  EXPECT_NEAR(s / 1e5, 1.0, 0.02);
  Tensor n = Tensor::empty({100000}, DType::Float64);
  fill_normal(n, a, 2, 3);
  double m = 0, q = 0;
  for (double v : n.to_vector()) {
    m += v;
    q += v * v;
  }
  m /= 1e5;
  EXPECT_NEAR(m, 2, 0.05);
  EXPECT_NEAR(std::sqrt(q / 1e5 - m * m), 3, 0.05);
  // successive draws from one generator do not overlap
  Tensor u1 = Tensor::empty({8}, DType::Float64), u2 = Tensor::empty({8}, DType::Float64);
  Generator g(7);
  fill_uniform(u1, g, 0, 1);
  fill_uniform(u2, g, 0, 1);
  EXPECT_NE(u1.to_vector(), u2.to_vector());
}
