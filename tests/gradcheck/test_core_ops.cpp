// Gradient checks and forward checks of the elementwise, reduction, shape, softmax and loss ops.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "gradcheck.h"
#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "kernels/softmax.h"

using namespace seg;
using namespace seg::testing;

#define EXPECT_GRADCHECK(fn, inputs, opts)                        \
  do {                                                            \
    auto r_ = gradcheck(fn, inputs, opts);                        \
    EXPECT_TRUE(r_.ok) << r_.message;                             \
  } while (0)

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

static Tensor labels(const Shape& s, int64_t classes, uint64_t seed, int64_t ignore = -100, int every = 0) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>((i * 7 + seed * 3) % static_cast<uint64_t>(classes));
  if (every)
    for (size_t i = 0; i < v.size(); i += static_cast<size_t>(every)) v[i] = ignore;
  return Tensor::from_labels(v, s);
}

TEST(Gradcheck, CrossEntropyAndNll) {
  GradcheckOptions o;
  Tensor t = labels({2, 3, 5}, 4, 1, 255, 4);
  Tensor w = random_tensor({4}, 51, 0.5, 2.0, 0.1, false);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, w, 255, r); },
                     std::vector<Tensor>{random_tensor({2, 4, 3, 5}, 52)}, o);
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return nll_loss(in[0], t, Tensor(), 255, r); },
                     std::vector<Tensor>{random_tensor({2, 4, 3, 5}, 53)}, o);
  }
  Tensor t2 = labels({6}, 3, 2);
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t2); },
                   std::vector<Tensor>{random_tensor({6, 3}, 54)}, o);
}

TEST(Loss, CrossEntropyValueAndErrors) {
  Tensor x = Tensor::from_vector({0, 0, 1, 1}, {2, 2}, DType::Float64);  // rows: [0,0], [1,1]
  Tensor t = Tensor::from_labels({0, 1}, {2});
  EXPECT_NEAR(cross_entropy(x, t).item(), std::log(2.0), 1e-12);
  Tensor bad = Tensor::from_labels({0, 7}, {2});
  try {
    cross_entropy(x, bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("class 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cross_entropy(x, Tensor::from_labels({0, 1, 1}, {3})), Error);
  EXPECT_THROW(cross_entropy(x, Tensor::from_vector({0, 1}, {2})), Error);  // float target
}

TEST(Gradcheck, Mse) {
  GradcheckOptions o;
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    EXPECT_GRADCHECK([r](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], r); },
                     (std::vector<Tensor>{random_tensor({2, 3, 4}, 61), random_tensor({2, 3, 4}, 62)}), o);
}

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
