// Elementwise ops (kernels/elementwise.h): gradient checks of the binary ops with broadcasting and of every unary op.
#include "kernels/elementwise.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

TEST(Gradcheck, BinaryOpsWithBroadcasting) {
  GradcheckOptions o;
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    auto f = [op](const std::vector<Tensor>& in) { return binary(op, in[0], in[1]); };
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 3, 5}, 1), random_tensor({2, 3, 5}, 2, 0.5, 2.0)}), o);
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 3, 4, 5}, 3), random_tensor({1, 3, 1, 1}, 4, 0.5, 2.0)}), o);
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({3, 1}, 5), random_tensor({4}, 6, 0.5, 2.0)}), o);
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 3}, 7), random_tensor({}, 8, 0.5, 2.0)}), o);
  }
}

TEST(Gradcheck, UnaryOps) {
  GradcheckOptions o;
  struct Case { UnaryOp op; double lo, hi, p, q; };
  const Case cases[] = {{UnaryOp::Neg, -1, 1, 0, 0},      {UnaryOp::Exp, -1, 1, 0, 0},
                        {UnaryOp::Log, 0.2, 2, 0, 0},     {UnaryOp::Sqrt, 0.2, 2, 0, 0},
                        {UnaryOp::Square, -1, 1, 0, 0},   {UnaryOp::Abs, -1, 1, 0, 0},
                        {UnaryOp::Relu, -1, 1, 0, 0},     {UnaryOp::LeakyRelu, -1, 1, 0.2, 0},
                        {UnaryOp::Sigmoid, -3, 3, 0, 0},  {UnaryOp::Tanh, -2, 2, 0, 0},
                        {UnaryOp::Scale, -1, 1, -2.5, 0}, {UnaryOp::AddScalar, -1, 1, 3, 0},
                        {UnaryOp::Clamp, -1, 1, -0.5, 0.5}};
  for (const Case& c : cases) {
    auto f = [c](const std::vector<Tensor>& in) { return unary(c.op, in[0], c.p, c.q); };
    Tensor x = random_tensor({3, 5, 7}, 11 + static_cast<int>(c.op), c.lo, c.hi);
    if (c.op == UnaryOp::Clamp) {  // keep away from the kinks
      double* p = x.data<double>();
      for (int64_t i = 0; i < x.numel(); ++i)
        if (std::fabs(std::fabs(p[i]) - 0.5) < 1e-3) p[i] += 0.01;
    }
    auto r = gradcheck(f, {x}, o);
    EXPECT_TRUE(r.ok) << "op " << static_cast<int>(c.op) << ": " << r.message;
  }
}
