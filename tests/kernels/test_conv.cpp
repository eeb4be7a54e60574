// Gradient checks and direct-formula checks of the convolutions (2-D/3-D, transposed, reflection padding).
#include <gtest/gtest.h>

#include "kernels/conv.h"
#include "tests/support/gradcheck.h"

using namespace seg;
using namespace seg::testing;

namespace {

void check(const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& op, Shape xs, Shape ws, int64_t cout,
           bool bias, uint64_t seed) {
  GradcheckOptions o;
  o.atol = 1e-6;
  o.rtol = 1e-5;
  std::vector<Tensor> in{random_tensor(xs, seed), random_tensor(ws, seed + 1),
                         bias ? random_tensor({cout}, seed + 2) : Tensor()};
  auto r = gradcheck([&](const std::vector<Tensor>& v) { return op(v[0], v[1], v[2]); }, in, o);
  EXPECT_TRUE(r.ok) << shape_str(xs) << " " << shape_str(ws) << ": " << r.message;
}

}  // namespace

TEST(Gradcheck, Conv2d) {
  ConvOptions a;
  a.padding = {1};
  check([&](auto& x, auto& w, auto& b) { return conv2d(x, w, b, a); }, {2, 3, 5, 6}, {4, 3, 3, 3}, 4, true, 1);
  ConvOptions s;
  s.stride = {2, 1};
  s.padding = {0, 2};
  s.dilation = {1, 2};
  check([&](auto& x, auto& w, auto& b) { return conv2d(x, w, b, s); }, {1, 2, 7, 5}, {3, 2, 3, 2}, 3, false, 2);
  ConvOptions r;
  r.padding = {2, 1};
  r.padding_mode = "reflect";
  check([&](auto& x, auto& w, auto& b) { return conv2d(x, w, b, r); }, {2, 2, 5, 4}, {3, 2, 3, 3}, 3, true, 3);
  check([&](auto& x, auto& w, auto& b) { return conv2d(x, w, b, {}); }, {3, 4, 3, 5}, {2, 4, 1, 1}, 2, true, 4);
}

TEST(Gradcheck, Conv3d) {
  ConvOptions a;
  a.padding = {1};
  check([&](auto& x, auto& w, auto& b) { return conv3d(x, w, b, a); }, {2, 2, 3, 4, 5}, {3, 2, 3, 3, 3}, 3, true, 11);
  ConvOptions s;
  s.stride = {2, 1, 2};
  s.padding = {1, 0, 1};
  s.padding_mode = "reflect";
  check([&](auto& x, auto& w, auto& b) { return conv3d(x, w, b, s); }, {1, 2, 5, 3, 4}, {2, 2, 3, 1, 3}, 2, true, 12);
}

TEST(Gradcheck, ConvTranspose) {
  ConvOptions u;
  u.stride = {2};
  u.padding = {1};
  u.output_padding = {1};
  check([&](auto& x, auto& w, auto& b) { return conv_transpose2d(x, w, b, u); }, {2, 3, 3, 4}, {3, 2, 3, 3}, 2, true, 21);
  ConvOptions v;
  v.stride = {1, 2};
  v.dilation = {2, 1};
  check([&](auto& x, auto& w, auto& b) { return conv_transpose2d(x, w, b, v); }, {1, 2, 4, 3}, {2, 3, 2, 3}, 3, false, 22);
  check([&](auto& x, auto& w, auto& b) { return conv_transpose3d(x, w, b, u); }, {1, 2, 2, 3, 2}, {2, 3, 3, 3, 3}, 3, true, 23);
}

// Direct definition: y[n,o,i,j] = b[o] + Σ w[o,c,a,b'] x[n,c,i·s−p+a·d, j·s−p+b'·d].
TEST(Conv, MatchesTheDefinition) {
  Tensor x = random_tensor({2, 3, 6, 5}, 31, -1, 1, 0, false), w = random_tensor({2, 3, 3, 2}, 32, -1, 1, 0, false),
         b = random_tensor({2}, 33, -1, 1, 0, false);
  ConvOptions o;
  o.stride = {2, 1};
  o.padding = {1, 1};
  o.dilation = {1, 2};
  Tensor y = conv2d(x, w, b, o);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3, 5}));
  const double* X = x.data<double>();
  const double* W = w.data<double>();
  const double* B = b.data<double>();
  const double* Y = y.data<double>();
  for (int n = 0; n < 2; ++n)
    for (int oc = 0; oc < 2; ++oc)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 5; ++j) {
          double s = B[oc];
          for (int c = 0; c < 3; ++c)
            for (int a = 0; a < 3; ++a)
              for (int bb = 0; bb < 2; ++bb) {
                const int ii = i * 2 - 1 + a, jj = j - 1 + bb * 2;
                if (ii < 0 || ii >= 6 || jj < 0 || jj >= 5) continue;
                s += W[((oc * 3 + c) * 3 + a) * 2 + bb] * X[((n * 3 + c) * 6 + ii) * 5 + jj];
              }
          EXPECT_NEAR(Y[((n * 2 + oc) * 3 + i) * 5 + j], s, 1e-12);
        }
}

TEST(Conv, ClearErrors) {
  Tensor x = Tensor::zeros({1, 3, 5, 5}), w = Tensor::zeros({4, 2, 3, 3});
  try {
    conv2d(x, w);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv2d"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("input channels"), std::string::npos) << e.what();
  }
  ConvOptions r;
  r.padding = {5};
  r.padding_mode = "reflect";
  EXPECT_THROW(conv2d(x, Tensor::zeros({4, 3, 3, 3}), Tensor(), r), Error);
  EXPECT_THROW(conv2d(Tensor::zeros({3, 5, 5}), Tensor::zeros({4, 3, 3, 3})), Error);
}
