// Gumbel-softmax (kernels/gumbel.h): gradient check with explicit noise, the hard sample's one-hot forward and
// straight-through gradient, seeded noise, error paths.
#include <cmath>

// rng.h first: its unqualified log/sqrt would otherwise also see seg::log(Tensor) from elementwise.h.
#include "engine/rng.h"
#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/gumbel.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(GumbelSoftmaxGradcheck, SoftWithExplicitNoise) {
  Generator gen(3);
  const Tensor noise = gumbel_noise({2, 3, 5, 7}, gen, DType::Float64);
  for (double tau : {0.5, 1.0})
    EXPECT_GRADCHECK(([noise, tau](const std::vector<Tensor>& in) { return gumbel_softmax_with_noise(in[0], noise, tau, false); }),
                     std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 9)}, GradcheckOptions{});
  const Tensor n2 = gumbel_noise({4, 5}, gen, DType::Float64);
  EXPECT_GRADCHECK([n2](const std::vector<Tensor>& in) { return gumbel_softmax_with_noise(in[0], n2, 0.7, false, -1); },
                   std::vector<Tensor>{random_tensor({4, 5}, 10)}, GradcheckOptions{});
}

TEST(GumbelSoftmax, HardIsOneHotWithSoftGradient) {
  Generator gen(4);
  const Tensor noise = gumbel_noise({2, 3, 4, 5}, gen, DType::Float64);
  Tensor a = random_tensor({2, 3, 4, 5}, 11), b = a.detach().clone().set_requires_grad(true);
  const Tensor w = random_tensor({2, 3, 4, 5}, 12, -1, 1, 0, false);
  Tensor hard = gumbel_softmax_with_noise(a, noise, 0.5, true);
  Tensor soft = gumbel_softmax_with_noise(b, noise, 0.5, false);
  // Forward: one-hot of the soft sample's argmax along dim 1.
  const auto h = hard.to_vector(), s = soft.to_vector();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 20; ++i) {
      int64_t best = 0;
      double total = 0;
      for (int64_t k = 0; k < 3; ++k) {
        if (s[static_cast<size_t>((n * 3 + k) * 20 + i)] > s[static_cast<size_t>((n * 3 + best) * 20 + i)]) best = k;
        total += h[static_cast<size_t>((n * 3 + k) * 20 + i)];
      }
      EXPECT_EQ(total, 1.0);
      EXPECT_EQ(h[static_cast<size_t>((n * 3 + best) * 20 + i)], 1.0);
    }
  // Backward: straight through, the soft sample's gradient (itself gradchecked above).
  sum_all(mul(hard, w)).backward();
  sum_all(mul(soft, w)).backward();
  EXPECT_LT(max_abs_diff(a.grad(), b.grad()), 1e-15);
}

TEST(GumbelSoftmax, SeededNoise) {
  Generator g1(7), g2(7);
  const Tensor a = gumbel_noise({1000}, g1, DType::Float64), b = gumbel_noise({1000}, g2, DType::Float64);
  EXPECT_EQ(max_abs_diff(a, b), 0.0);
  const Tensor c = gumbel_noise({1000}, g1, DType::Float64);  // the generator advanced: a new draw
  EXPECT_GT(max_abs_diff(a, c), 0.1);
  // Gumbel(0, 1) has mean γ ≈ 0.5772 and variance π²/6.
  const Tensor big = gumbel_noise({200000}, g1, DType::Float64);
  double m = 0, v = 0;
  for (double x : big.to_vector()) m += x;
  m /= 200000;
  for (double x : big.to_vector()) v += (x - m) * (x - m);
  v /= 200000;
  EXPECT_NEAR(m, 0.5772156649, 0.01);
  EXPECT_NEAR(v, M_PI * M_PI / 6, 0.03);
  // gumbel_softmax draws from the generator: same seed, same sample; sums to 1 along dim.
  Generator g3(9), g4(9);
  const Tensor x = random_tensor({2, 4, 3}, 13, -1, 1, 0, false);
  const Tensor y1 = gumbel_softmax(x, 0.5, false, g3), y2 = gumbel_softmax(x, 0.5, false, g4);
  EXPECT_EQ(max_abs_diff(y1, y2), 0.0);
  expect_values(sum(y1, {1}), std::vector<double>(6, 1.0), 1e-14);
}

TEST(GumbelSoftmax, Errors) {
  Generator gen(1);
  const Tensor x = Tensor::zeros({2, 3}, DType::Float64);
  EXPECT_SEG_ERROR(gumbel_softmax(x, 0, false, gen), "tau");
  EXPECT_SEG_ERROR(gumbel_softmax_with_noise(x, Tensor::zeros({3, 2}, DType::Float64), 1, false), "gumbel_softmax");
  EXPECT_SEG_ERROR(one_hot_argmax(x, 2), "one_hot_argmax");
}
