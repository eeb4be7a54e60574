// Partial cross-entropy and size penalty (paper 1's weak supervision, losses/): gradient checks, hand values, error
// paths. (Merged from two suites that tested them under the same file name; every check of both is here.)
#include <cmath>

#include "kernels/softmax.h"
#include "losses/partial_ce.h"
#include "losses/size_penalty.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {
Tensor mask01(const Shape& s, uint64_t seed) {
  Tensor m = Tensor::empty(s, DType::Float64);
  double* p = m.data<double>();
  for (int64_t i = 0; i < m.numel(); ++i) p[i] = ((static_cast<uint64_t>(i) * 2654435761u + seed) >> 3) % 3 == 0 ? 1.0 : 0.0;
  return m;
}
}  // namespace

TEST(PartialCE, Gradcheck) {
  const Tensor m = mask01({2, 5, 7}, 3);
  auto f = [m](const std::vector<Tensor>& in) { return partial_cross_entropy(log_softmax(in[0], 1), m, 1); };
  EXPECT_GRADCHECK(f, std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 1)}, GradcheckOptions{});
  const Tensor m3 = mask01({1, 3, 4, 5}, 4);
  auto g = [m3](const std::vector<Tensor>& in) { return partial_cross_entropy(in[0], m3, 0); };
  EXPECT_GRADCHECK(g, std::vector<Tensor>{random_tensor({1, 2, 3, 4, 5}, 2)}, GradcheckOptions{});
  // Three isolated seeds on a (2, 3, 5) grid, class 1.
  Tensor seeds = Tensor::zeros({2, 3, 5}, DType::Float64);
  seeds.data<double>()[1] = 1;
  seeds.data<double>()[17] = 1;
  seeds.data<double>()[29] = 1;
  auto h = [&](const std::vector<Tensor>& in) { return partial_cross_entropy(log_softmax(in[0], 1), seeds, 1); };
  EXPECT_GRADCHECK(h, std::vector<Tensor>{random_tensor({2, 3, 3, 5}, 81)}, GradcheckOptions{});
}

TEST(PartialCE, HandValues) {
  // Class 1 log-probs of 4 pixels; seeds on pixels 0 and 3: −(−0.5 − 2) / 2 = 1.25.
  Tensor lp = Tensor::from_vector({-1, -1, -1, -1, -0.5, -1, -3, -2}, {1, 2, 2, 2}, DType::Float64);
  Tensor m = Tensor::from_vector({1, 0, 0, 1}, {1, 2, 2}, DType::Float64);
  EXPECT_NEAR(partial_cross_entropy(lp, m, 1).item(), 1.25, 1e-15);
  EXPECT_NEAR(partial_cross_entropy(lp, m, 0).item(), 1.0, 1e-15);
  // No seeds: zero loss, zero gradient.
  Tensor lpg = lp.clone().set_requires_grad(true);
  Tensor z = partial_cross_entropy(lpg, Tensor::zeros({1, 2, 2}, DType::Float64), 1);
  EXPECT_EQ(z.item(), 0.0);
  z.backward();
  for (double v : lpg.grad().to_vector()) EXPECT_EQ(v, 0.0);
  // Two classes, log p_1 = log 0.25 at the single seed; no seeds of the (1, 1, 2) shape also gives 0.
  Tensor lp2 = Tensor::from_vector({std::log(0.75), std::log(0.5), std::log(0.25), std::log(0.5)}, {1, 2, 1, 2},
                                   DType::Float64);
  Tensor seed2 = Tensor::from_vector({1, 0}, {1, 1, 2}, DType::Float64);
  EXPECT_NEAR(partial_cross_entropy(lp2, seed2, 1).item(), -std::log(0.25), 1e-12);
  EXPECT_EQ(partial_cross_entropy(lp2, Tensor::zeros({1, 1, 2}, DType::Float64), 1).item(), 0.0);
}

TEST(PartialCE, Errors) {
  Tensor lp = Tensor::zeros({1, 2, 3, 3}, DType::Float64);
  EXPECT_SEG_ERROR(partial_cross_entropy(lp, Tensor::zeros({1, 3, 4}, DType::Float64), 0), "partial_cross_entropy");
  EXPECT_SEG_ERROR(partial_cross_entropy(lp, Tensor::zeros({1, 3, 3}, DType::Float64), 2), "partial_cross_entropy");
  EXPECT_SEG_ERROR(partial_cross_entropy(lp, Tensor::zeros({1, 3, 3}, DType::Float32), 0), "partial_cross_entropy");
  // A (1, 2, 1, 2) input: seeds of the wrong shape, a class out of range.
  Tensor lp2 = Tensor::zeros({1, 2, 1, 2}, DType::Float64);
  EXPECT_SEG_ERROR(partial_cross_entropy(lp2, Tensor::zeros({1, 2, 2}, DType::Float64), 1), "partial_cross_entropy");
  EXPECT_SEG_ERROR(partial_cross_entropy(lp2, Tensor::from_vector({1, 0}, {1, 1, 2}, DType::Float64), 2),
                   "partial_cross_entropy");
}

TEST(SizePenalty, Gradcheck) {
  // Bounds around the sums of softmax maps so that some classes fall below, inside and above their bounds.
  const Tensor b = Tensor::from_vector({10, 12, 2, 3, 0, 0, 5, 40, 0, 1, 30, 35}, {2, 3, 2}, DType::Float64);
  auto f = [b](const std::vector<Tensor>& in) { return size_penalty(softmax(in[0], 1), b); };
  EXPECT_GRADCHECK(f, std::vector<Tensor>{random_tensor({2, 3, 5, 7}, 5, -2, 2)}, GradcheckOptions{});
  // p in (0, 1) directly over 3×4 = 12 pixels: V ≈ 6 per map; bounds put maps below, inside and above.
  const Tensor b2 = Tensor::from_vector({8, 10, 2, 9, 0, 3, 0, 0, 7, 7, 1, 2}, {2, 3, 2}, DType::Float64);
  auto g = [b2](const std::vector<Tensor>& in) { return size_penalty(in[0], b2); };
  EXPECT_GRADCHECK(g, std::vector<Tensor>{random_tensor({2, 3, 3, 4}, 82, 0.2, 0.8)}, GradcheckOptions{});
}

TEST(SizePenalty, HandValues) {
  // One sample, two classes on a 2×2 image: V0 = 1 (< a=3: (1−3)² = 4), V1 = 3 (> b=2: 1); mean 2.5, / 4 = 0.625.
  Tensor p = Tensor::from_vector({0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75}, {1, 2, 2, 2}, DType::Float64);
  Tensor b = Tensor::from_vector({3, 5, 0, 2}, {1, 2, 2}, DType::Float64);
  EXPECT_NEAR(size_penalty(p, b).item(), 0.625, 1e-15);
  Tensor inside = Tensor::from_vector({0, 4, 0, 4}, {1, 2, 2}, DType::Float64);
  EXPECT_EQ(size_penalty(p, inside).item(), 0.0);
  // p = 0.5 everywhere: V = 2 for both maps. Map 0: V < a → (2−3)² = 1; map 1: V > b → (2−1)² = 1; mean 1, / H·W = 4.
  Tensor half = Tensor::full({1, 2, 2, 2}, 0.5, DType::Float64);
  EXPECT_NEAR(size_penalty(half, Tensor::from_vector({3, 5, 0, 1}, {1, 2, 2}, DType::Float64)).item(), 0.25, 1e-12);
}

TEST(SizePenalty, Errors) {
  Tensor p = Tensor::zeros({1, 2, 3, 3}, DType::Float64);
  EXPECT_SEG_ERROR(size_penalty(p, Tensor::zeros({1, 2}, DType::Float64)), "size_penalty");
  EXPECT_SEG_ERROR(size_penalty(Tensor::full({1, 2, 2, 2}, 0.5, DType::Float64), Tensor::zeros({1, 2}, DType::Float64)),
                   "size_penalty");
  EXPECT_SEG_ERROR(size_penalty(p, Tensor::from_vector({2, 1, 0, 1}, {1, 2, 2}, DType::Float64)), "a <= b");
  EXPECT_SEG_ERROR(size_penalty(Tensor::zeros({2, 3, 3}, DType::Float64), Tensor::zeros({2, 3, 2}, DType::Float64)),
                   "size_penalty");
}
