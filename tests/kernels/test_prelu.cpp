// PReLU (kernels/prelu.h): gradient checks with a shared and a per-channel slope, forward values, error paths.
#include "kernels/prelu.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(PreluGradcheck, SharedAndPerChannel) {
  GradcheckOptions o;
  auto f = [](const std::vector<Tensor>& in) { return prelu(in[0], in[1]); };
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 20), random_tensor({1}, 21, 0.05, 0.5)}), o);
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({1, 3, 5, 7}, 22), random_tensor({3}, 23, 0.05, 0.5)}), o);
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 24), random_tensor({4}, 25, -0.5, 0.5)}), o);
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 4, 3, 5, 6}, 26), random_tensor({1}, 27, 0.05, 0.5)}), o);
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({5, 3}, 28), random_tensor({3}, 29, 0.05, 0.5)}), o);
}

TEST(Prelu, Values) {
  Tensor x = Tensor::from_vector({-2, 3, -1, 4}, {1, 2, 2}, DType::Float64);
  expect_values(prelu(x, Tensor::from_vector({0.25}, {1}, DType::Float64)), {-0.5, 3, -0.25, 4});
  expect_values(prelu(x, Tensor::from_vector({0.5, 0.1}, {2}, DType::Float64)), {-1, 3, -0.1, 4});
  Tensor w = Tensor::from_vector({0.5, 0.1}, {2}, DType::Float64);
  w.set_requires_grad(true);
  prelu(x, w).backward(Tensor::ones({1, 2, 2}, DType::Float64));
  expect_values(w.grad(), {-2, -1});  // Σ_{x ≤ 0} g·x per channel
}

TEST(PreluErrors, NameTheOp) {
  Tensor x = Tensor::zeros({2, 3, 4}, DType::Float64);
  EXPECT_SEG_ERROR(prelu(x, Tensor::ones({2}, DType::Float64)), "prelu");
  EXPECT_SEG_ERROR(prelu(x, Tensor::ones({3}, DType::Float32)), "prelu");
  EXPECT_SEG_ERROR(prelu(Tensor::zeros({2, 3}, DType::Int64), Tensor::ones({1}, DType::Float64)), "prelu");
  EXPECT_SEG_ERROR(prelu(x, Tensor::ones({1, 3}, DType::Float64)), "prelu");
}
