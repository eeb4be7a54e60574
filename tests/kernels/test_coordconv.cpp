// Fused CoordConv: forward equals the definition (the engine's conv of cat([x, coordinate channels]), channels built
// naively here), gradchecks for input, weight and bias across padding modes, stride, dilation, transposed and 3-D,
// the shared per-element helpers (what the CUDA kernel runs) against the CPU path, and error paths.
#include "engine/autograd.h"
#include "kernels/coordconv.h"
#include "kernels/coordconv_math.h"
#include "kernels/shape_ops.h"
#include "tests/support/kernel_test_util.h"

using namespace seg;
using namespace seg::testing;

namespace {

// The coordinate channels of the definition: (N, sd, [D,] H, W), channel order [Z,] Y, X.
Tensor coord_channels(const Shape& xs, double lo, double hi) {
  const int sd = static_cast<int>(xs.size()) - 2;
  Shape s = xs;
  s[1] = sd;
  Tensor c = Tensor::empty(s, DType::Float64);
  double* p = c.data<double>();
  const int64_t D = sd == 3 ? xs[2] : 1, H = xs[xs.size() - 2], W = xs[xs.size() - 1];
  auto val = [&](int64_t i, int64_t n) { return n > 1 ? lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1) : lo; };
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int ch = 0; ch < sd; ++ch)
      for (int64_t z = 0; z < D; ++z)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) {
            const int axis = 3 - sd + ch;  // 0 = z, 1 = y, 2 = x
            *p++ = axis == 0 ? val(z, D) : axis == 1 ? val(y, H) : val(x, W);
          }
  return c;
}

Tensor reference(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o, double lo, double hi,
                 int kind) {  // kind 0: 2-D, 1: transposed 2-D, 2: 3-D
  const Tensor xc = cat({x, coord_channels(x.shape(), lo, hi)}, 1);
  if (kind == 0) return conv2d(xc, w, b, o);
  if (kind == 1) return conv_transpose2d(xc, w, b, o);
  return conv3d(xc, w, b, o);
}

ConvOptions opts(int64_t stride, int64_t pad, int64_t dil, const std::string& mode = "zeros", int64_t outpad = 0) {
  ConvOptions o;
  o.stride = {stride};
  o.padding = {pad};
  o.dilation = {dil};
  o.padding_mode = mode;
  o.output_padding = {outpad};
  return o;
}

struct Cfg {
  ConvOptions o;
  double lo, hi;
};

std::vector<Cfg> configs_2d() {
  return {{opts(1, 1, 1), -1, 1},           {opts(2, 1, 1), -1, 1},           {opts(1, 0, 1), 0, 10},
          {opts(1, 2, 2), -1, 1},           {opts(1, 1, 1, "reflect"), -1, 1}, {opts(2, 2, 1, "reflect"), 0, 256},
          {opts(1, 3, 1), -1, 1}};
}

}  // namespace

TEST(CoordConv, Conv2dMatchesDefinition) {
  const Tensor x = random_tensor({2, 3, 7, 6}, 1, -1, 1, 0, false);
  const Tensor w = random_tensor({4, 5, 3, 3}, 2, -1, 1, 0, false), b = random_tensor({4}, 3, -1, 1, 0, false);
  for (const Cfg& c : configs_2d()) {
    EXPECT_LT(max_abs_diff(coordconv2d(x, w, b, c.o, c.lo, c.hi), reference(x, w, b, c.o, c.lo, c.hi, 0)), 1e-12)
        << "stride " << c.o.stride[0] << " pad " << c.o.padding[0] << " " << c.o.padding_mode;
    EXPECT_LT(max_abs_diff(coordconv2d(x, w, Tensor(), c.o, c.lo, c.hi), reference(x, w, Tensor(), c.o, c.lo, c.hi, 0)),
              1e-12);
  }
  // Non-square kernel, per-axis options, length-1 axes (coordinate lo there).
  ConvOptions o;
  o.stride = {1, 2};
  o.padding = {0, 2};
  o.dilation = {2, 1};
  const Tensor w2 = random_tensor({3, 5, 2, 5}, 4, -1, 1, 0, false);
  EXPECT_LT(max_abs_diff(coordconv2d(x, w2, Tensor(), o), reference(x, w2, Tensor(), o, -1, 1, 0)), 1e-12);
  const Tensor x1 = random_tensor({1, 3, 1, 5}, 5, -1, 1, 0, false);
  EXPECT_LT(max_abs_diff(coordconv2d(x1, w, b, opts(1, 1, 1), 0.5, 2), reference(x1, w, b, opts(1, 1, 1), 0.5, 2, 0)), 1e-12);
}

TEST(CoordConv, Transpose2dAnd3dMatchDefinition) {
  const Tensor x = random_tensor({2, 3, 5, 4}, 6, -1, 1, 0, false);
  const Tensor wt = random_tensor({5, 4, 3, 3}, 7, -1, 1, 0, false), b = random_tensor({4}, 8, -1, 1, 0, false);
  for (const ConvOptions& o : {opts(1, 0, 1), opts(2, 1, 1), opts(2, 1, 1, "zeros", 1), opts(3, 2, 2, "zeros", 2),
                               opts(1, 1, 2)})
    EXPECT_LT(max_abs_diff(coordconv_transpose2d(x, wt, b, o, 0, 10), reference(x, wt, b, o, 0, 10, 1)), 1e-12)
        << "stride " << o.stride[0] << " pad " << o.padding[0];
  const Tensor x3 = random_tensor({2, 2, 4, 5, 3}, 9, -1, 1, 0, false);
  const Tensor w3 = random_tensor({3, 5, 3, 3, 3}, 10, -1, 1, 0, false), b3 = random_tensor({3}, 11, -1, 1, 0, false);
  for (const ConvOptions& o : {opts(1, 1, 1), opts(2, 1, 1), opts(1, 0, 1), opts(1, 2, 2), opts(1, 1, 1, "reflect")})
    EXPECT_LT(max_abs_diff(coordconv3d(x3, w3, b3, o), reference(x3, w3, b3, o, -1, 1, 2)), 1e-12)
        << "stride " << o.stride[0] << " pad " << o.padding[0] << " " << o.padding_mode;
}

TEST(CoordConv, FloatMatchesDouble) {
  const Tensor x = random_tensor({2, 3, 9, 8}, 12, -1, 1, 0, false);
  const Tensor w = random_tensor({4, 5, 3, 3}, 13, -1, 1, 0, false), b = random_tensor({4}, 14, -1, 1, 0, false);
  const Tensor y = coordconv2d(x.to(DType::Float32), w.to(DType::Float32), b.to(DType::Float32), opts(1, 1, 1));
  EXPECT_LT(max_abs_diff(y, coordconv2d(x, w, b, opts(1, 1, 1))), 1e-5);
}

TEST(CoordConvGradcheck, Conv2d) {
  for (const Cfg& c : configs_2d()) {
    auto f = [c](const std::vector<Tensor>& in) { return coordconv2d(in[0], in[1], in[2], c.o, c.lo, c.hi); };
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 2, 7, 5}, 20), random_tensor({3, 4, 3, 3}, 21),
                                             random_tensor({3}, 22)}), GradcheckOptions{});
  }
  // Without bias; weight only.
  auto g = [](const std::vector<Tensor>& in) { return coordconv2d(in[0].detach(), in[1], Tensor(), opts(2, 1, 1)); };
  EXPECT_GRADCHECK(g, (std::vector<Tensor>{random_tensor({1, 1, 6, 7}, 23, -1, 1, 0.05, false),
                                           random_tensor({2, 3, 3, 3}, 24)}), GradcheckOptions{});
}

TEST(CoordConvGradcheck, Transpose2dAnd3d) {
  for (const ConvOptions& o : {opts(1, 0, 1), opts(2, 1, 1, "zeros", 1), opts(2, 0, 2)}) {
    auto f = [o](const std::vector<Tensor>& in) { return coordconv_transpose2d(in[0], in[1], in[2], o, 0, 10); };
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({2, 2, 4, 3}, 30), random_tensor({4, 3, 3, 2}, 31),
                                             random_tensor({3}, 32)}), GradcheckOptions{});
  }
  for (const ConvOptions& o : {opts(1, 1, 1), opts(2, 1, 1, "reflect")}) {
    auto f = [o](const std::vector<Tensor>& in) { return coordconv3d(in[0], in[1], in[2], o); };
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{random_tensor({1, 2, 3, 5, 4}, 33), random_tensor({2, 5, 3, 3, 3}, 34),
                                             random_tensor({2}, 35)}), GradcheckOptions{});
  }
}

TEST(CoordConv, SharedHelpersMatchCpuPath) {
  // coord_map_at / coord_weight_grad_at are what a simple CUDA kernel evaluates; check them against the CPU path:
  // with x = 0 the output is bias + M, and with dy = 1 on one sample dWc = Σ_pixels coord·valid.
  for (const Cfg& c : configs_2d()) {
    const Tensor x = Tensor::zeros({1, 2, 7, 6}, DType::Float64);
    const Tensor w = random_tensor({3, 4, 3, 3}, 40, -1, 1, 0, true), b = random_tensor({3}, 41, -1, 1, 0, false);
    const Tensor y = coordconv2d(x, w, b, c.o, c.lo, c.hi);
    CoordGeom g;
    g.cout = 3;
    g.w_so = 2 * 9;
    g.w_sc = 9;
    const int64_t in[2] = {7, 6};
    for (int i = 0; i < 2; ++i) {
      CoordAxis& a = g.ax[1 + i];
      a.n_in = in[i];
      a.n_out = y.size(2 + i);
      a.k = 3;
      a.stride = c.o.stride[0];
      a.pad = c.o.padding[0];
      a.dil = c.o.dilation[0];
      a.reflect = c.o.padding_mode == "reflect";
      a.lo = c.lo;
      a.step = coord_step(c.lo, c.hi, in[i]);
    }
    const Tensor wc = narrow(w.detach(), 1, 2, 2);
    const double* yp = y.data<double>();
    double err = 0;
    for (int64_t co = 0; co < 3; ++co)
      for (int64_t oy = 0; oy < y.size(2); ++oy)
        for (int64_t ox = 0; ox < y.size(3); ++ox)
          err = std::max(err, std::fabs(coord_map_at(g, wc.data<double>(), b.data<double>(), co, 0, oy, ox) -
                                        yp[(co * y.size(2) + oy) * y.size(3) + ox]));
    EXPECT_LT(err, 1e-12);
    y.backward(Tensor::ones(y.shape(), DType::Float64));
    const Tensor dwc = narrow(w.grad(), 1, 2, 2);
    const Tensor ones = Tensor::ones({y.size(2) * y.size(3)}, DType::Float64);
    for (int ch = 0; ch < 2; ++ch)
      for (int64_t t = 0; t < 9; ++t)
        EXPECT_NEAR(coord_weight_grad_at(g, ones.data<double>(), ch, t), dwc.data<double>()[ch * 9 + t], 1e-12);
  }
}

TEST(CoordConv, NoGradModeAndErrors) {
  const Tensor x = random_tensor({1, 3, 5, 5}, 50), w = random_tensor({2, 5, 3, 3}, 51);
  {
    NoGradGuard ng;
    EXPECT_FALSE(coordconv2d(x, w, Tensor(), opts(1, 1, 1)).requires_grad());
  }
  EXPECT_SEG_ERROR(coordconv2d(x, random_tensor({2, 3, 3, 3}, 52)), "coordconv2d");        // no coordinate channels
  EXPECT_SEG_ERROR(coordconv2d(x, w, random_tensor({3}, 53)), "coordconv2d");              // bias size
  EXPECT_SEG_ERROR(coordconv2d(random_tensor({1, 3, 5}, 54), w), "coordconv2d");           // rank
  EXPECT_SEG_ERROR(coordconv3d(random_tensor({1, 3, 4, 4, 4}, 55), random_tensor({2, 5, 3, 3, 3}, 56)), "coordconv3d");
  EXPECT_SEG_ERROR(coordconv_transpose2d(x, random_tensor({2, 5, 3, 3}, 57)), "coordconv_transpose2d");
  EXPECT_SEG_ERROR(coordconv2d(x, w, Tensor(), opts(1, 1, 1, "circular")), "padding_mode");
  EXPECT_SEG_ERROR(coordconv2d(x, w.to(DType::Float32)), "coordconv2d");
}
