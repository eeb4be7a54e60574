// Paper 2's models: U-Net-BN (supplement Table 3) and the four-layer CNN (Table 4). Exact parameter counts (1 input,
// 4 classes: 13,394,372 and 75,140; PE adds 2·64·9 = 1,152), output shapes and refused inputs, PE equal to its
// definition (the same network with the coordinate channels concatenated to the input, under zero and reflection
// padding), a few Adam steps that lower the loss, and float64 gradchecks of the input and every parameter on small
// instances (the model converted by Module::to(DType)).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "tests/support/gradcheck.h"
#include "kernels/nll.h"
#include "kernels/shape_ops.h"
#include "models/small_cnn.h"
#include "models/unet_bn.h"

using namespace seg;

namespace {

// x with the PE channels appended as the definition writes them: [x, λ·y/(H−1), λ·x/(W−1)] (the fused op's order).
Tensor with_coordinates(const Tensor& x, double lambda) {
  const int64_t N = x.size(0), H = x.size(2), W = x.size(3);
  Tensor c = Tensor::empty({N, 2, H, W}, x.dtype());
  std::vector<double> v(static_cast<size_t>(N * 2 * H * W));
  size_t k = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int ch = 0; ch < 2; ++ch)
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j)
          v[k++] = ch == 0 ? lambda * static_cast<double>(i) / static_cast<double>(H - 1)
                           : lambda * static_cast<double>(j) / static_cast<double>(W - 1);
  c.copy_from_(Tensor::from_vector(v, {N, 2, H, W}, DType::Float64));
  return cat({x, c}, 1);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto va = a.to_vector(), vb = b.to_vector();
  double m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

Tensor uniform(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Generator g(seed);
  Tensor x = Tensor::empty(s);
  fill_uniform(x, g, lo, hi);
  return x;
}

// A few Adam steps on one fixed batch whose labels depend on intensity and position; returns (first, last) loss.
template <class M>
std::pair<double, double> train_steps(M& m, int64_t S, int steps) {
  Adam opt(m.named_parameters(), 1e-2);
  Tensor x = uniform({2, 1, S, S}, 5, 0, 1);
  std::vector<int64_t> lab(static_cast<size_t>(2 * S * S));
  const float* xp = x.data<float>();
  for (size_t i = 0; i < lab.size(); ++i) {
    const int64_t col = static_cast<int64_t>(i) % S;
    lab[i] = xp[i] > 0.5f ? (col < S / 2 ? 1 : 2) : (col < S / 3 ? 3 : 0);
  }
  Tensor t = Tensor::from_labels(lab, {2, S, S});
  double first = 0, last = 0;
  for (int s = 0; s < steps; ++s) {
    Tensor loss = cross_entropy(m.forward(x), t);
    if (s == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  return {first, last};
}

// Gradcheck of a float64 model in training mode (batch statistics): the input and every parameter tensor, each at
// `per_tensor` elements drawn at random (all of them when the tensor is smaller): backward's gradient against central
// differences of Σ w ⊙ forward(x) with fixed random weights w. The tolerance is relative to the network's gradient
// scale G (the largest analytic component): |analytic − numeric| ≤ 1e-5·G + 1e-3·|numeric|. A whole network's
// objective sums thousands of outputs (roundoff ~1e-6 in a difference quotient) and its ReLUs and max-pools put kinks
// within a step of some elements, so element-exact 1e-6 agreement would be luck; a wiring error (a missing or swapped
// path) is off by the size of the gradient itself. Every op the models use is gradchecked exactly in the kernel suites.
template <class M>
void gradcheck_model(M& m, const Shape& xs, uint64_t seed, int64_t per_tensor) {
  m.to(DType::Float64);
  m.train();
  Tensor x = seg::testing::random_tensor(xs, seed);
  std::vector<std::pair<std::string, Tensor>> inputs{{"input", x}};
  for (const auto& p : m.named_parameters()) inputs.push_back(p);
  Tensor y = m.forward(x);
  const Tensor w = seg::testing::random_tensor(y.shape(), seed + 1, 0.5, 1.5, 0.0, false);
  for (auto& [n, t] : inputs) t.zero_grad();
  y.backward(w);
  auto objective = [&] {
    NoGradGuard ng;
    const auto yv = m.forward(x).to_vector(), wv = w.to_vector();
    double s = 0;
    for (size_t i = 0; i < yv.size(); ++i) s += yv[i] * wv[i];
    return s;
  };
  double scale = 0;
  for (auto& [name, t] : inputs)
    for (double g : t.grad().to_vector()) scale = std::max(scale, std::fabs(g));
  Generator pick(seed + 2);
  const double eps = 1e-6;
  int checked = 0;
  for (auto& [name, t] : inputs) {
    const auto grad = t.grad().to_vector();
    double* p = t.template data<double>();
    const int64_t n = t.numel();
    for (int64_t k = 0; k < std::min(n, per_tensor); ++k) {
      const int64_t i = n <= per_tensor ? k : pick.randint(n);
      const double orig = p[i];
      p[i] = orig + eps;
      const double fp = objective();
      p[i] = orig - eps;
      const double fm = objective();
      p[i] = orig;
      const double numeric = (fp - fm) / (2 * eps);
      ASSERT_NEAR(grad[static_cast<size_t>(i)], numeric, 1e-5 * scale + 1e-3 * std::fabs(numeric))
          << name << " element " << i << " (gradient scale " << scale << ")";
      ++checked;
    }
  }
  EXPECT_GT(checked, static_cast<int>(inputs.size()));
  EXPECT_GT(scale, 0.0);
}

}  // namespace

TEST(UNetBN, ExactParameterCountsOfTable3) {
  EXPECT_EQ(UNetBN({}).num_parameters(), 13394372);  // 1 input channel, 4 classes
  for (double lambda : {1.0, 10.0, 256.0}) EXPECT_EQ(UNetBN({.pe_lambda = lambda}).num_parameters(), 13394372 + 1152);
  EXPECT_EQ(UNetBN({.padding_mode = "reflect"}).num_parameters(), 13394372);
  // Table 3 layer by layer: conv1_1 (1→64), …, conv6_1 takes 512 + 512, conv9_1 64 + 64, score 64→4.
  const auto named = UNetBN({.pe_lambda = 1}).named_parameters();
  std::map<std::string, Shape> shapes;
  for (const auto& [n, t] : named) shapes[n] = t.shape();
  EXPECT_EQ(shapes.at("conv1_1.conv.weight"), (Shape{64, 3, 3, 3}));
  EXPECT_EQ(shapes.at("conv5_2.conv.weight"), (Shape{512, 512, 3, 3}));
  EXPECT_EQ(shapes.at("conv6_1.conv.weight"), (Shape{256, 1024, 3, 3}));
  EXPECT_EQ(shapes.at("conv8_1.conv.weight"), (Shape{64, 256, 3, 3}));
  EXPECT_EQ(shapes.at("conv9_1.conv.weight"), (Shape{64, 128, 3, 3}));
  EXPECT_EQ(shapes.at("conv9_2.bn.weight"), (Shape{64}));
  EXPECT_EQ(shapes.at("score.weight"), (Shape{4, 64, 1, 1}));
}

TEST(SmallCNN, ExactParameterCountsOfTable4) {
  EXPECT_EQ(SmallCNN({}).num_parameters(), 75140);
  EXPECT_EQ(SmallCNN({.pe_lambda = 256}).num_parameters(), 76292);
  EXPECT_EQ(SmallCNN({.classes = 2}).num_parameters(), 75140 - 2 * 65);
}

TEST(UNetBN, OutputShapesAndRefusedInputs) {
  NoGradGuard ng;
  UNetBN m({.base_width = 4, .pe_lambda = 10});
  m.eval();
  EXPECT_EQ(m.forward(Tensor::zeros({2, 1, 32, 48})).shape(), (Shape{2, 4, 32, 48}));
  EXPECT_THROW(m.forward(Tensor::zeros({1, 1, 30, 32})), Error);  // not a multiple of 16
  EXPECT_THROW(m.forward(Tensor::zeros({1, 2, 32, 32})), Error);  // wrong channel count
  EXPECT_THROW(UNetBN({.padding_mode = "circular"}), Error);
  EXPECT_THROW(UNetBN({.pe_lambda = -1}), Error);
  UNetBN r({.base_width = 4, .padding_mode = "reflect"});
  r.eval();
  EXPECT_EQ(r.forward(Tensor::zeros({1, 1, 32, 32})).shape(), (Shape{1, 4, 32, 32}));
}

TEST(SmallCNN, OutputShapesAndRefusedInputs) {
  NoGradGuard ng;
  SmallCNN m({.width = 8, .pe_lambda = 256, .padding_mode = "reflect"});
  m.eval();
  EXPECT_EQ(m.forward(Tensor::zeros({3, 1, 17, 9})).shape(), (Shape{3, 4, 17, 9}));  // any size: no pooling
  EXPECT_THROW(m.forward(Tensor::zeros({1, 3, 8, 8})), Error);
  EXPECT_THROW(SmallCNN({.depth = 0}), Error);
}

// The fused PE equals the definition: a model built with 3 input channels draws the same weights (PyTorch's default
// init bounds by fan-in = 3·9 in both) and, fed [x, Y, X], gives the same logits, for zero and reflection padding.
TEST(PositionalEncoding, EqualsConcatenatedCoordinateChannels) {
  NoGradGuard ng;
  const Tensor x = uniform({1, 1, 32, 48}, 11);
  for (const char* pad : {"zeros", "reflect"})
    for (double lambda : {1.0, 256.0}) {
      SCOPED_TRACE(std::string(pad) + " λ " + std::to_string(lambda));
      UNetBN pe({.base_width = 4, .pe_lambda = lambda, .padding_mode = pad, .seed = 3});
      UNetBN plain({.in_channels = 3, .base_width = 4, .padding_mode = pad, .seed = 3});
      SmallCNN spe({.width = 8, .pe_lambda = lambda, .padding_mode = pad, .seed = 4});
      SmallCNN splain({.in_channels = 3, .width = 8, .padding_mode = pad, .seed = 4});
      for (Module* m : {static_cast<Module*>(&pe), static_cast<Module*>(&plain), static_cast<Module*>(&spe),
                        static_cast<Module*>(&splain)})
        m->eval();
      const Tensor xc = with_coordinates(x, lambda);
      const Tensor a = pe.forward(x), b = plain.forward(xc);
      double scale = 0;
      for (double v : b.to_vector()) scale = std::max(scale, std::fabs(v));
      EXPECT_LT(max_abs_diff(a, b), 1e-5 * (1 + scale));
      const Tensor c = spe.forward(x), d = splain.forward(xc);
      scale = 0;
      for (double v : d.to_vector()) scale = std::max(scale, std::fabs(v));
      EXPECT_LT(max_abs_diff(c, d), 1e-5 * (1 + scale));
    }
}

TEST(UNetBN, AdamStepsLowerTheLoss) {
  UNetBN m({.base_width = 4, .pe_lambda = 1, .seed = 1});
  const auto [first, last] = train_steps(m, 32, 10);
  EXPECT_LT(last, 0.85 * first) << first << " -> " << last;
}

TEST(SmallCNN, AdamStepsLowerTheLoss) {
  SmallCNN m({.width = 8, .pe_lambda = 10, .seed = 1});
  const auto [first, last] = train_steps(m, 24, 12);
  EXPECT_LT(last, 0.8 * first) << first << " -> " << last;
}

// Width 1 (about 3.5 k parameters): zero padding element by element, with batch 3 so the 1×1 bottleneck's BatchNorm
// has three values per channel; reflection padding (which needs a 2×2 bottleneck, so 32² inputs) at six elements of
// each parameter tensor.
TEST(UNetBN, GradcheckFloat64SmallInstance) {
  UNetBN zeros({.classes = 3, .base_width = 1, .pe_lambda = 10, .seed = 2});
  gradcheck_model(zeros, {3, 1, 16, 16}, 21, 1 << 30);
  UNetBN reflect({.classes = 2, .base_width = 1, .pe_lambda = 1, .padding_mode = "reflect", .seed = 3});
  gradcheck_model(reflect, {2, 1, 32, 32}, 22, 6);
}

TEST(SmallCNN, GradcheckFloat64SmallInstance) {
  SmallCNN zeros({.classes = 3, .width = 3, .pe_lambda = 256, .seed = 2});
  gradcheck_model(zeros, {2, 1, 7, 9}, 23, 1 << 30);  // every element
  SmallCNN reflect({.classes = 2, .width = 3, .pe_lambda = 10, .padding_mode = "reflect", .seed = 3});
  gradcheck_model(reflect, {2, 1, 6, 5}, 24, 1 << 30);
}
