// Sum and mean (kernels/reduce.h): gradient checks over dims, with keepdim and over everything; values over
// non-adjacent dims.
#include "kernels/reduce.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(Gradcheck, Reductions) {
  GradcheckOptions o;
  Tensor x = random_tensor({2, 3, 4, 5}, 21);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, std::vector<Tensor>{x}, o);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return mean(in[0], {0, 2}, true); }, std::vector<Tensor>{x}, o);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return mean(in[0], {2, 3}); }, std::vector<Tensor>{x}, o);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return sum_all(in[0]); }, std::vector<Tensor>{x}, o);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return mean_all(in[0]); }, std::vector<Tensor>{x}, o);
}

TEST(Reduce, ValuesOverNonAdjacentDims) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}, DType::Float64);
  EXPECT_EQ(sum(x, {0, 2}).to_vector(), (std::vector<double>{1 + 2 + 5 + 6, 3 + 4 + 7 + 8}));
  EXPECT_EQ(mean(x, {1}).to_vector(), (std::vector<double>{2, 3, 6, 7}));
  EXPECT_DOUBLE_EQ(sum_all(x).item(), 36);
}
