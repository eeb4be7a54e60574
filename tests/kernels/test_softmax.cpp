// Softmax and log-softmax (kernels/softmax.h): gradient checks along every dim; rows sum to one and stay stable for
// large logits.
#include <cmath>

#include "kernels/softmax.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(Gradcheck, Softmax) {
  GradcheckOptions o;
  for (int64_t dim : {0, 1, -1}) {
    EXPECT_GRADCHECK([dim](const std::vector<Tensor>& in) { return softmax(in[0], dim); },
                     std::vector<Tensor>{random_tensor({2, 3, 5}, 41)}, o);
    EXPECT_GRADCHECK([dim](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); },
                     std::vector<Tensor>{random_tensor({2, 3, 5}, 42)}, o);
  }
}

TEST(Softmax, RowsSumToOneAndAreStableForLargeLogits) {
  Tensor x = Tensor::from_vector({1000, 1001, 1002, -5, 0, 5}, {2, 3}, DType::Float64);
  auto y = softmax(x, 1).to_vector();
  EXPECT_NEAR(y[0] + y[1] + y[2], 1.0, 1e-12);
  EXPECT_NEAR(y[2], std::exp(2.0) / (1 + std::exp(1.0) + std::exp(2.0)), 1e-12);
  auto ly = log_softmax(x, 1).to_vector();
  EXPECT_NEAR(ly[5], 5 - std::log(std::exp(-5.0) + 1 + std::exp(5.0)), 1e-12);
}
