// oneDNN vs im2col: every convolution kind (2-D/3-D, plain/transposed, with and without bias, stride, padding,
// dilation, output_padding) on random shapes, forward and every input gradient, at float32 tolerances. Also checks
// which calls oneDNN must leave to im2col (float64, reflection padding) and that those still run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/conv.h"
#include "kernels/conv_onednn.h"

using namespace seg;

namespace {

#define SEG_REQUIRE_ONEDNN() \
  do {                       \
    if (!onednn::built()) GTEST_SKIP() << "built without oneDNN (apt-get install libdnnl-dev; SEG_ONEDNN=AUTO)"; \
  } while (0)

// Switches the fast path for one scope.
class FastPath {
 public:
  explicit FastPath(bool on) : prev_(onednn::set_enabled(on)) {}
  ~FastPath() { onednn::set_enabled(prev_); }

 private:
  bool prev_;
};

Tensor rand_tensor(const Shape& s, uint64_t seed, DType dt = DType::Float32) {
  Tensor t = Tensor::empty(s, DType::Float32);
  Generator g(seed);
  fill_uniform(t, g, -1, 1);
  t = t.to(dt);
  t.set_requires_grad(true);
  return t;
}

::testing::AssertionResult close(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (!a.defined() || !b.defined())
    return a.defined() == b.defined() ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "one side undefined";
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << a.describe() << " vs " << b.describe();
  const auto x = a.to_vector(), y = b.to_vector();
  int bad = 0;
  std::ostringstream os;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(x[i] - y[i]) <= atol + rtol * std::fabs(y[i])) continue;
    if (bad++ < 5) os << " [" << i << "] oneDNN " << x[i] << " im2col " << y[i] << ";";
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << x.size() << " differ:" << os.str();
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct Result {
  Tensor y;
  std::vector<Tensor> grads;
};

Result run(const Fn& fn, const std::vector<Tensor>& inputs, bool fast) {
  FastPath scope(fast);
  std::vector<Tensor> in;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      in.push_back(Tensor());
      continue;
    }
    Tensor c = t.detach().clone();
    c.set_requires_grad(t.requires_grad());
    in.push_back(c);
  }
  Result r;
  r.y = fn(in);
  Tensor g = Tensor::empty(r.y.shape(), r.y.dtype());
  Generator gen(99);
  fill_uniform(g, gen, -1, 1);
  r.y.backward(g);
  for (const Tensor& t : in) r.grads.push_back(t.defined() && t.requires_grad() ? t.grad() : Tensor());
  return r;
}

// Sums of up to a few thousand float32 products in different orders.
// Returns whether oneDNN ran the fast side (forward and backward), so callers can require that it did.
bool compare_paths(const std::string& what, const Fn& fn, const std::vector<Tensor>& inputs) {
  SCOPED_TRACE(what);
  const Result ref = run(fn, inputs, false);
  const int64_t before = onednn::calls();
  const Result fast = run(fn, inputs, true);
  const bool took_fast_path = onednn::calls() - before >= 2;
  EXPECT_TRUE(close(fast.y, ref.y, 1e-4, 2e-5)) << "forward";
  for (size_t i = 0; i < inputs.size(); ++i)
    EXPECT_TRUE(close(fast.grads[i], ref.grads[i], 1e-4, 5e-5)) << "gradient of input " << i;
  return took_fast_path;
}

ConvOptions opts(std::vector<int64_t> s, std::vector<int64_t> p, std::vector<int64_t> d, std::vector<int64_t> op = {0}) {
  ConvOptions o;
  o.stride = std::move(s);
  o.padding = std::move(p);
  o.dilation = std::move(d);
  o.output_padding = std::move(op);
  return o;
}

std::string str(const std::vector<int64_t>& v) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  return os.str();
}

}  // namespace

TEST(OneDnnConv, PaperLayersTakeTheFastPath) {
  SEG_REQUIRE_ONEDNN();
  FastPath on(true);
  // the residual U-Net's 3×3 convolution and its 3×3 stride-2 transposed convolution
  ConvGeom g;
  g.C = 32; g.H = g.W = 16; g.kh = g.kw = 3; g.ph = g.pw = 1; g.OH = g.OW = 16;
  EXPECT_TRUE(onednn::usable(g, 4, 32, false, DType::Float32, true));
  ConvGeom t = g;
  t.sh = t.sw = 2; t.H = t.W = 16; t.OH = t.OW = 8;  // image 16² (output), columns 8² (input)
  EXPECT_TRUE(onednn::usable(t, 4, 64, true, DType::Float32, true));
  // left to im2col: float64 (the gradient checks), reflection padding, switched off
  EXPECT_FALSE(onednn::usable(g, 4, 32, false, DType::Float64, true));
  ConvGeom r = g;
  r.reflect = true;
  EXPECT_FALSE(onednn::usable(r, 4, 32, false, DType::Float32, true));
  FastPath off(false);
  EXPECT_FALSE(onednn::usable(g, 4, 32, false, DType::Float32, true));
}

TEST(OneDnnConv, Conv2dFixedCases) {
  SEG_REQUIRE_ONEDNN();
  for (const auto& o : {opts({1}, {1}, {1}), opts({2}, {0}, {1}), opts({1, 2}, {2, 1}, {2, 1}), opts({3}, {1}, {1})}) {
    EXPECT_TRUE(compare_paths("conv2d s" + str(o.stride) + " p" + str(o.padding) + " d" + str(o.dilation),
                  [o](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], v[2], o); },
                  {rand_tensor({2, 3, 13, 11}, 1), rand_tensor({5, 3, 3, 3}, 2), rand_tensor({5}, 3)}));
  }
  // 1×1, no bias; and a frozen weight (the backward then keeps no input)
  compare_paths("conv2d 1x1", [](const std::vector<Tensor>& v) { return conv2d(v[0], v[1]); },
                {rand_tensor({3, 4, 8, 9}, 4), rand_tensor({6, 4, 1, 1}, 5)});
  Tensor w = rand_tensor({4, 3, 3, 3}, 6).detach();
  Tensor b = rand_tensor({4}, 7);
  compare_paths("conv2d frozen weight",
                [w](const std::vector<Tensor>& v) { return conv2d(v[0], w, v[1], opts({1}, {1}, {1})); },
                {rand_tensor({2, 3, 7, 7}, 8), b});
}

TEST(OneDnnConv, TransposedFixedCases) {
  SEG_REQUIRE_ONEDNN();
  for (const auto& o : {opts({2}, {1}, {1}, {1}), opts({2}, {0}, {1}), opts({1}, {1}, {2}), opts({3, 2}, {1, 0}, {1}, {2, 1})}) {
    EXPECT_TRUE(compare_paths("conv_transpose2d s" + str(o.stride) + " p" + str(o.padding) + " d" + str(o.dilation) + " op" +
                      str(o.output_padding),
                  [o](const std::vector<Tensor>& v) { return conv_transpose2d(v[0], v[1], v[2], o); },
                  {rand_tensor({2, 4, 6, 5}, 20), rand_tensor({4, 3, 3, 3}, 21), rand_tensor({3}, 22)}));
  }
  compare_paths("conv_transpose3d", [](const std::vector<Tensor>& v) {
    return conv_transpose3d(v[0], v[1], v[2], opts({2}, {1}, {1}, {1}));
  }, {rand_tensor({1, 3, 3, 4, 5}, 23), rand_tensor({3, 2, 3, 3, 3}, 24), rand_tensor({2}, 25)});
}

TEST(OneDnnConv, Conv3dFixedCases) {
  SEG_REQUIRE_ONEDNN();
  for (const auto& o : {opts({1}, {1}, {1}), opts({2, 1, 2}, {1, 0, 1}, {1}), opts({1}, {2}, {2})}) {
    EXPECT_TRUE(compare_paths("conv3d s" + str(o.stride) + " p" + str(o.padding) + " d" + str(o.dilation),
                  [o](const std::vector<Tensor>& v) { return conv3d(v[0], v[1], v[2], o); },
                  {rand_tensor({2, 2, 5, 7, 6}, 10), rand_tensor({3, 2, 3, 3, 3}, 11), rand_tensor({3}, 12)}));
  }
  // a single-slice volume with depth padding: must not be mistaken for a 2-D convolution
  compare_paths("conv3d D=1 pd=1", [](const std::vector<Tensor>& v) { return conv3d(v[0], v[1], v[2], opts({1}, {1}, {1})); },
                {rand_tensor({2, 2, 1, 6, 5}, 13), rand_tensor({3, 2, 1, 3, 3}, 14), rand_tensor({3}, 15)});
}

// Random geometries: odd sizes, every stride/padding/dilation combination in range, both kinds, 2-D and 3-D.
TEST(OneDnnConv, RandomGeometries) {
  SEG_REQUIRE_ONEDNN();
  Generator g(2026);
  int valid_cases = 0, fast_cases = 0;
  for (int it = 0; it < 40; ++it) {
    const int sd = it % 4 == 3 ? 3 : 2;
    const bool transposed = it % 2 == 1;
    const bool bias = g.randint(3) != 0;
    const int64_t N = 1 + g.randint(3), cin = 1 + g.randint(6), cout = 1 + g.randint(6);
    std::vector<int64_t> k, s, p, d, op, in;
    Shape xs{N, cin}, ws;
    for (int i = 0; i < sd; ++i) {
      k.push_back(1 + g.randint(sd == 3 ? 3 : 4));
      s.push_back(1 + g.randint(3));
      d.push_back(1 + g.randint(2));
      p.push_back(g.randint(3));
      op.push_back(transposed ? g.randint(std::max(s.back(), d.back())) : 0);
      const int64_t eff = d.back() * (k.back() - 1) + 1;
      in.push_back(transposed ? 1 + g.randint(6) : std::max<int64_t>(eff - 2 * p.back(), 1) + g.randint(sd == 3 ? 5 : 9));
      xs.push_back(in.back());
    }
    ws = transposed ? Shape{cin, cout} : Shape{cout, cin};
    for (auto kk : k) ws.push_back(kk);
    ConvOptions o = opts(s, p, d, op);
    std::ostringstream name;
    name << (transposed ? "conv_transpose" : "conv") << sd << "d x" << str(xs) << " w" << str(ws) << " s" << str(s)
         << " p" << str(p) << " d" << str(d) << " op" << str(op) << (bias ? " bias" : "");
    Fn fn = [sd, transposed, o](const std::vector<Tensor>& v) {
      if (transposed) return sd == 2 ? conv_transpose2d(v[0], v[1], v[2], o) : conv_transpose3d(v[0], v[1], v[2], o);
      return sd == 2 ? conv2d(v[0], v[1], v[2], o) : conv3d(v[0], v[1], v[2], o);
    };
    const uint64_t seed = 100 + static_cast<uint64_t>(it) * 3;
    std::vector<Tensor> inputs{rand_tensor(xs, seed), rand_tensor(ws, seed + 1), bias ? rand_tensor({cout}, seed + 2) : Tensor()};
    bool valid = true;
    try {
      FastPath off(false);
      (void)fn(inputs);
    } catch (const Error&) {
      valid = false;  // e.g. an output size below 1: both paths must refuse it alike
    }
    if (!valid) {
      FastPath on(true);
      EXPECT_THROW((void)fn(inputs), Error) << name.str();
      continue;
    }
    ++valid_cases;
    if (compare_paths(name.str(), fn, inputs)) ++fast_cases;
    else std::printf("oneDNN declined (im2col ran it): %s\n", name.str().c_str());
  }
  EXPECT_GE(valid_cases, 30) << "too few valid random geometries to mean anything";
  // oneDNN may decline a rare corner (e.g. an output_padding past a 1-tap dilated axis); im2col then runs it, and the
  // result was compared above all the same
  EXPECT_GE(fast_cases, valid_cases * 9 / 10) << "oneDNN ran only " << fast_cases << " of " << valid_cases << " cases";
}

TEST(OneDnnConv, Float64AndReflectStillRunOnIm2col) {
  SEG_REQUIRE_ONEDNN();
  FastPath on(true);
  ConvOptions o = opts({1}, {1}, {1});
  const int64_t before = onednn::calls();
  Tensor x = rand_tensor({2, 3, 6, 5}, 50, DType::Float64), w = rand_tensor({4, 3, 3, 3}, 51, DType::Float64);
  Tensor y = conv2d(x, w, Tensor(), o);
  y.backward(Tensor::ones(y.shape(), DType::Float64));
  EXPECT_EQ(y.dtype(), DType::Float64);
  EXPECT_EQ(y.shape(), (Shape{2, 4, 6, 5}));
  o.padding_mode = "reflect";
  Tensor xf = rand_tensor({2, 3, 6, 5}, 52), wf = rand_tensor({4, 3, 3, 3}, 53);
  Tensor yr = conv2d(xf, wf, Tensor(), o);
  yr.backward(Tensor::ones(yr.shape()));
  EXPECT_EQ(onednn::calls(), before) << "float64 and reflection padding must not reach oneDNN";
  EXPECT_EQ(xf.grad().shape(), xf.shape());
}
