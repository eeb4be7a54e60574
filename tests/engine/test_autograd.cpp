// The autograd engine (engine/autograd.h): accumulation on leaves, a second backward is a clear error unless the graph
// is retained, no-grad records nothing, and record() builds no backward closure when no gradient is needed.
#include <cmath>

#include "engine/autograd.h"
#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/norm.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(Autograd, AccumulatesAndRejectsSecondBackward) {
  Tensor x = random_tensor({3}, 71);
  Tensor y = sum_all(mul(x, x));
  y.backward();
  auto g = x.grad().to_vector();
  auto xv = x.to_vector();
  for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(g[i], 2 * xv[i]);
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
  }
  Tensor z = sum_all(scale(x, 3.0));
  z.backward();
  g = x.grad().to_vector();
  for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(g[i], 2 * xv[i] + 3);
}

TEST(Autograd, NoGradRecordsNothingAndErrorsAreClear) {
  Tensor x = random_tensor({2}, 72);
  {
    NoGradGuard ng;
    Tensor y = mul(x, x);
    EXPECT_FALSE(y.requires_grad());
  }
  Tensor c = Tensor::ones({2}, DType::Float64);
  EXPECT_THROW(sum_all(c).backward(), Error);
  EXPECT_THROW(mul(x, Tensor::ones({3}, DType::Float64)), Error);
  EXPECT_THROW(add(x, Tensor::ones({2}, DType::Float32)), Error);
  EXPECT_THROW(mul(x, x).backward(), Error);  // non-scalar without a gradient
}

TEST(Autograd, RetainGraphAllowsSecondBackward) {
  Tensor x = random_tensor({2}, 73);
  Tensor y = sum_all(exp(x));
  y.backward(Tensor(), true);
  y.backward();
  auto g = x.grad().to_vector();
  auto xv = x.to_vector();
  for (size_t i = 0; i < 2; ++i) EXPECT_NEAR(g[i], 2 * std::exp(xv[i]), 1e-12);
}

// record()'s factory (the closure and the tensors it saves) runs only when a gradient is needed: measured with a
// counting factory, and over real ops through recorded_nodes().
TEST(Autograd, RecordBuildsNoClosureUnlessAGradientIsNeeded) {
  int built = 0;
  auto make = [&] {
    ++built;
    return [](const Tensor& g) -> std::vector<Tensor> { return {g}; };
  };
  Tensor x = random_tensor({2, 3}, 74);  // requires grad
  Tensor c = random_tensor({2, 3}, 75, -1, 1, 0.05, false);
  {
    NoGradGuard ng;
    EXPECT_FALSE(record("probe", c.clone(), {x}, make).requires_grad());
  }
  EXPECT_FALSE(record("probe", c.clone(), {c}, make).requires_grad());  // no input needs a gradient
  EXPECT_FALSE(record("probe", c.clone(), {Tensor(), c}, make).requires_grad());
  EXPECT_EQ(built, 0);
  EXPECT_TRUE(record("probe", c.clone(), {c, x}, make).requires_grad());
  EXPECT_EQ(built, 1);

  // Real ops, inputs requiring grad: none records under no-grad; each records once with grad on.
  Tensor img = random_tensor({2, 3, 5, 4}, 76), w = random_tensor({4, 3, 3, 3}, 77), b = random_tensor({4}, 78);
  Tensor gamma = random_tensor({4}, 79), beta = random_tensor({4}, 80);
  auto net = [&] {
    Tensor y = conv2d(img, w, b, ConvOptions{});
    y = batch_norm(y, gamma, beta, Tensor(), Tensor(), true, 0.1, 1e-5);
    return sum_all(log_softmax(relu(y), 1));
  };
  const int64_t before = recorded_nodes();
  {
    NoGradGuard ng;
    EXPECT_FALSE(net().requires_grad());
  }
  EXPECT_EQ(recorded_nodes(), before);
  EXPECT_TRUE(net().requires_grad());
  EXPECT_EQ(recorded_nodes(), before + 5);  // conv2d, batch_norm, relu, log_softmax, sum
}
