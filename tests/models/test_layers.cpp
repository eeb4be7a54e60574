// Layer modules built from specs: weight shapes of the four conv kinds (2-D/3-D, plain/transposed, CoordConv,
// rectangular kernels), "same" padding, the two initialisations' ranges, ConvNormAct with BatchNorm / GroupNorm /
// PReLU, and that bad specs are refused with a message naming the field.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "models/layers.h"

using namespace seg;

namespace {
double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector()) m = std::max(m, std::fabs(v));
  return m;
}
}  // namespace

TEST(Layers, ConvKindsHavePyTorchWeightLayoutsAndShapes) {
  Generator g(1);
  NoGradGuard ng;
  Conv2d c2(3, 8, {.kernel = {3}}, g);
  EXPECT_EQ(c2.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(c2.forward(Tensor::zeros({2, 3, 9, 7})).shape(), (Shape{2, 8, 9, 7}));  // "same" padding
  Conv2d rect(4, 4, {.kernel = {5, 1}, .bias = false}, g);                           // ENet's asymmetric conv
  EXPECT_EQ(rect.weight.shape(), (Shape{4, 4, 5, 1}));
  EXPECT_FALSE(rect.bias.defined());
  EXPECT_EQ(rect.forward(Tensor::zeros({1, 4, 11, 6})).shape(), (Shape{1, 4, 11, 6}));
  Conv2d dil(2, 2, {.kernel = {3}, .dilation = {4}}, g);
  EXPECT_EQ(dil.forward(Tensor::zeros({1, 2, 13, 13})).shape(), (Shape{1, 2, 13, 13}));
  Conv3d c3(2, 5, {.kernel = {3}, .stride = {2}}, g);
  EXPECT_EQ(c3.weight.shape(), (Shape{5, 2, 3, 3, 3}));
  EXPECT_EQ(c3.forward(Tensor::zeros({1, 2, 8, 6, 5})).shape(), (Shape{1, 5, 4, 3, 3}));
  ConvTranspose2d t2(6, 3, {.kernel = {3}, .stride = {2}, .padding = {1}, .output_padding = {1}}, g);
  EXPECT_EQ(t2.weight.shape(), (Shape{6, 3, 3, 3}));
  EXPECT_EQ(t2.forward(Tensor::zeros({1, 6, 5, 4})).shape(), (Shape{1, 3, 10, 8}));
  ConvTranspose3d t3(4, 2, {.kernel = {2}, .stride = {2}, .padding = {0}}, g);
  EXPECT_EQ(t3.weight.shape(), (Shape{4, 2, 2, 2, 2}));
  EXPECT_EQ(t3.forward(Tensor::zeros({1, 4, 3, 2, 5})).shape(), (Shape{1, 2, 6, 4, 10}));
}

TEST(Layers, CoordConvAddsOneInputChannelPerSpatialDim) {
  Generator g(2);
  NoGradGuard ng;
  Conv2d c2(3, 4, {.kernel = {3}, .coord = {.enabled = true, .lo = 0, .hi = 10}}, g);
  EXPECT_EQ(c2.weight.shape(), (Shape{4, 5, 3, 3}));
  EXPECT_EQ(c2.forward(Tensor::zeros({1, 3, 6, 6})).shape(), (Shape{1, 4, 6, 6}));
  Conv3d c3(1, 2, {.kernel = {3}, .coord = {.enabled = true}}, g);
  EXPECT_EQ(c3.weight.shape(), (Shape{2, 4, 3, 3, 3}));
  ConvTranspose2d t2(3, 2, {.kernel = {2}, .stride = {2}, .padding = {0}, .coord = {.enabled = true}}, g);
  EXPECT_EQ(t2.weight.shape(), (Shape{5, 2, 2, 2}));
}

TEST(Layers, InitialisationsDrawFromTheirStatedRanges) {
  Generator g(3);
  // PyTorch default: U(±1/√fan_in), fan_in = weight.size(1)·k² (for transposed convs that is the *output* count).
  Conv2d pt(16, 32, {.kernel = {3}, .init = Init::PyTorchDefault}, g);
  const double b = 1.0 / std::sqrt(16.0 * 9.0);
  EXPECT_LE(max_abs(pt.weight), b);
  EXPECT_GT(max_abs(pt.weight), 0.9 * b);
  EXPECT_LE(max_abs(pt.bias), b);
  EXPECT_GT(max_abs(pt.bias), 0.5 * b);
  ConvTranspose2d ptt(32, 8, {.kernel = {2}, .stride = {2}, .padding = {0}, .init = Init::PyTorchDefault}, g);
  EXPECT_LE(max_abs(ptt.weight), 1.0 / std::sqrt(8.0 * 4.0));
  EXPECT_GT(max_abs(ptt.weight), 0.9 / std::sqrt(8.0 * 4.0));
  // He-normal on fan-out: sample std ≈ √(2 / (k²·out)), bias 0.
  Conv2d he(64, 64, {.kernel = {3}}, g);
  double ss = 0;
  const std::vector<double> w = he.weight.to_vector();
  for (double v : w) ss += v * v;
  EXPECT_NEAR(std::sqrt(ss / static_cast<double>(w.size())), std::sqrt(2.0 / (9.0 * 64.0)), 0.02 * std::sqrt(2.0 / 576.0));
  EXPECT_EQ(max_abs(he.bias), 0.0);
}

TEST(Layers, ConvNormActBlocksAndActivations) {
  Generator g(4);
  ConvNormAct bn(2, 3, 8, {.kernel = {3}}, {.kind = Norm::Batch}, {.kind = Act::ReLU}, g);
  ConvNormAct gn(3, 2, 8, {.kernel = {3}, .bias = false}, {.kind = Norm::Group, .groups = 4},
                 {.kind = Act::PReLU, .prelu_weights = 0}, g);
  ConvNormAct plain(2, 3, 8, {.kernel = {1}}, {.kind = Norm::None}, {.kind = Act::None}, g);
  EXPECT_EQ(bn.num_parameters(), 8 * 3 * 9 + 8 + 2 * 8);
  EXPECT_EQ(gn.num_parameters(), 8 * 2 * 27 + 2 * 8 + 8);  // PReLU with one slope per channel
  EXPECT_EQ(plain.num_parameters(), 8 * 3 + 8);
  Tensor x = Tensor::empty({2, 3, 5, 5});
  fill_uniform(x, g, -1, 1);
  Tensor y = bn.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 8, 5, 5}));
  for (double v : y.to_vector()) EXPECT_GE(v, 0.0);
  Tensor x3 = Tensor::empty({1, 2, 3, 4, 5});
  fill_uniform(x3, g, -1, 1);
  EXPECT_EQ(gn.forward(x3).shape(), (Shape{1, 8, 3, 4, 5}));
  Activation shared({.kind = Act::PReLU});
  EXPECT_EQ(shared.weight.numel(), 1);
  EXPECT_NEAR(shared.forward(Tensor::full({1, 2, 1, 1}, -2.0)).to_vector()[0], -0.5, 1e-7);
  Activation leaky({.kind = Act::LeakyReLU, .negative_slope = 0.2});
  EXPECT_NEAR(leaky.forward(Tensor::full({1}, -1.0)).item(), -0.2, 1e-7);
  EXPECT_NEAR(activate(Tensor::full({1}, 0.0), {.kind = Act::Sigmoid}).item(), 0.5, 1e-7);
}

TEST(Layers, BadSpecsAreRefusedNamingTheField) {
  Generator g(5);
  try {
    Conv2d c(2, 2, {.kernel = {3, 3, 3}}, g);
    FAIL() << "a 3-value kernel for a 2-D conv was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ConvSpec.kernel"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Conv2d(0, 2, {}, g), Error);
  EXPECT_THROW(GroupNorm(3, 8), Error);
  EXPECT_THROW(ConvTranspose2d(2, 2, {.padding_mode = "reflect"}, g), Error);
  EXPECT_THROW(Activation({.kind = Act::PReLU, .prelu_weights = 0}), Error);
}
