// Shape ops (kernels/shape_ops.h): gradient checks of cat, narrow and reshape; values and error paths.
#include "kernels/elementwise.h"
#include "kernels/shape_ops.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(Gradcheck, ShapeOps) {
  GradcheckOptions o;
  auto fcat = [](const std::vector<Tensor>& in) { return cat({in[0], in[1], in[2]}, 1); };
  EXPECT_GRADCHECK(fcat, (std::vector<Tensor>{random_tensor({2, 1, 3}, 31), random_tensor({2, 4, 3}, 32),
                                              random_tensor({2, 2, 3}, 33)}), o);
  auto fn = [](const std::vector<Tensor>& in) { return narrow(in[0], 2, 1, 3); };
  EXPECT_GRADCHECK(fn, std::vector<Tensor>{random_tensor({2, 3, 5, 2}, 34)}, o);
  auto fr = [](const std::vector<Tensor>& in) { return mul(reshape(in[0], {3, -1}), reshape(in[0], {3, 10})); };
  EXPECT_GRADCHECK(fr, std::vector<Tensor>{random_tensor({2, 3, 5}, 35)}, o);
}

TEST(ShapeOps, CatAndNarrowValues) {
  Tensor a = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector({5, 6}, {2, 1});
  EXPECT_EQ(cat({a, b}, 1).to_vector(), (std::vector<double>{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(narrow(cat({a, b}, 1), 1, 1, 2).to_vector(), (std::vector<double>{2, 5, 4, 6}));
  EXPECT_THROW(cat({a, Tensor::zeros({3, 1})}, 1), Error);
  EXPECT_THROW(reshape(a, {3, -1}), Error);
}
