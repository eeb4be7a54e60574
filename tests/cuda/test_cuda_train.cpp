// One training step of the residual U-Net (CoordConv everywhere, so every conv, deconv and CoordConv kernel family
// runs) on the test device matches the same step on the CPU: the loss, every parameter gradient and the Adam update.
// Key decision: the comparison can fail only for a real bug. In float32, two correct backends cannot agree on this
// model's gradients: a few of its ~1.1 M ReLU/LeakyReLU inputs lie within float32 rounding of 0 and take the other
// branch on one of them, and each such flip moves every gradient upstream of it by ~1/√(layer size), 0.4-2 %
// (docs/cuda_backend.md, "Why the training step is so sensitive"; the model itself is well-conditioned). So:
//  * gradients and Adam updates are compared in float64 on both sides, where such a flip needs an input within
//    ~1e-13 of 0: per-tensor relative L2 ≤ 1e-7 (rounding gives ~1e-13), in training mode (batch statistics) and in
//    eval mode (running statistics from one training-mode pass);
//  * float32 is compared where it is continuous: the training-mode forward (logits and loss, ≤ 1e-3 / 1e-5; rounding
//    gives ~3e-5 / 3e-7); each op's float32 backward is compared by its own test in this folder;
//  * the conv and deconv biases that feed a BatchNorm have an exact gradient of 0 in training mode (BN removes any
//    per-channel constant), so their computed gradients are rounding noise: they are checked to be ~0, not compared,
//    and their Adam update (±lr·sign(noise)) is left out.
#include <cmath>
#include <regex>

#include "cuda_test_util.h"
#include "engine/optim.h"
#include "kernels/nll.h"
#include "models/residual_unet.h"

using namespace seg;
using namespace seg::cudatest;

namespace {

using Params = std::vector<std::pair<std::string, Tensor>>;

// ‖a − b‖₂ / ‖b‖₂ (a and b on any devices; 0 when both are all zero).
double rel_l2(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - y[i]) * (x[i] - y[i]);
    den += y[i] * y[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (double v : a.to_vector()) m = std::max(m, std::fabs(v));
  return m;
}

// The biases directly followed by a BatchNorm in the residual U-Net: every ConvBnAct's conv ("...convN.conv.bias")
// and every upsampling deconv ("deconvK.bias", followed by "deconvK_bn"). The head's bias is not.
bool feeds_batchnorm(const std::string& name) {
  static const std::regex re(R"(\.conv\.bias$|^deconv\d+\.bias$)");
  return std::regex_search(name, re);
}

// Converts every parameter and buffer of m to dtype in place (a test-only helper: the engine's modules are float32
// unless built otherwise; the handles the layers hold follow, as with Module::to(Device)).
void module_to_dtype(Module& m, DType dtype) {
  auto convert = [dtype](const Params& ts) {
    for (const auto& [n, t] : ts) {
      Tensor c = t.detach().to(dtype);
      t.impl()->storage = c.impl()->storage;
      t.impl()->dtype = dtype;
    }
  };
  convert(m.named_parameters());
  convert(m.named_buffers());
}

// Copies every parameter and buffer of `from` into `to` (same architecture; any devices).
void copy_state(const Module& from, Module& to) {
  auto a = from.named_parameters(), b = to.named_parameters();
  auto c = from.named_buffers(), d = to.named_buffers();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(c.size(), d.size());
  for (size_t i = 0; i < a.size(); ++i) b[i].second.copy_from_(a[i].second);
  for (size_t i = 0; i < c.size(); ++i) d[i].second.copy_from_(c[i].second);
}

const ResidualUNet::Config kModel{.in_channels = 1, .classes = 2, .coord = CoordPlacement::All, .seed = 3};

// Two models from one seed (the second on the test device), in dtype, BatchNorm in training or eval mode (eval:
// running statistics from one training-mode pass of the CPU model, copied to the other).
struct Pair {
  ResidualUNet mc{kModel}, mg{kModel};
  Tensor x, t;
  Pair(DType dtype, bool train_mode) {
    x = rand_tensor({2, 1, 32, 32}, 1, -1, 1, false).to(dtype);
    t = rand_labels({2, 32, 32}, 2, 2);
    if (dtype != DType::Float32) {
      module_to_dtype(mc, dtype);
      module_to_dtype(mg, dtype);
    }
    if (!train_mode) {
      mc.train();
      (void)mc.forward(x);  // running statistics: momentum 0.1 over the initial 0 / 1
      copy_state(mc, mg);
    }
    mg.to(test_device());
    mc.train(train_mode);
    mg.train(train_mode);
  }
};

void check_step(DType dtype, bool train_mode, double grad_tol, double update_tol, double zero_grad) {
  Pair m(dtype, train_mode);
  Params pc = m.mc.named_parameters(), pg = m.mg.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  std::vector<Tensor> before;
  for (const auto& [n, p] : pc) before.push_back(p.clone());

  Adam oc(pc, 1e-3), og(pg, 1e-3);
  Tensor lc = cross_entropy(m.mc.forward(m.x), m.t);
  Tensor lg = cross_entropy(m.mg.forward(to_test_device(m.x)), to_test_device(m.t));
  EXPECT_NEAR(lg.item(), lc.item(), 1e-10 * std::fabs(lc.item()));
  lc.backward();
  lg.backward();

  int zero_biases = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    SCOPED_TRACE(pc[i].first);
    ASSERT_EQ(pg[i].second.device(), test_device());
    const Tensor gc = pc[i].second.grad(), gg = pg[i].second.grad();
    ASSERT_TRUE(gc.defined() && gg.defined());
    if (train_mode && feeds_batchnorm(pc[i].first)) {
      ++zero_biases;
      EXPECT_LE(max_abs(gc), zero_grad) << "CPU: the exact gradient of a bias before BatchNorm is 0";
      EXPECT_LE(max_abs(gg), zero_grad) << "test device: the exact gradient of a bias before BatchNorm is 0";
      continue;
    }
    EXPECT_GT(max_abs(gc), 0);
    EXPECT_LE(rel_l2(gg, gc), grad_tol) << "gradient (max |g| " << max_abs(gc) << ")";
  }
  if (train_mode) {
    EXPECT_EQ(zero_biases, 9 * 5 + 4) << "biases before BatchNorm: 9 blocks × 5 + 4 deconvs";
  }

  oc.step();
  og.step();
  auto minus = [](const Tensor& p, const Tensor& q) {
    auto u = p.to_vector(), v = q.to_vector();
    for (size_t k = 0; k < u.size(); ++k) u[k] -= v[k];
    return Tensor::from_vector(u, p.shape(), DType::Float64);
  };
  for (size_t i = 0; i < pc.size(); ++i) {
    SCOPED_TRACE(pc[i].first);
    if (train_mode && feeds_batchnorm(pc[i].first)) continue;
    const Tensor uc = minus(pc[i].second, before[i]), ug = minus(pg[i].second, before[i]);
    EXPECT_GT(max_abs(uc), 0) << "Adam did not move the parameter";
    EXPECT_LE(max_abs(uc), 1e-3 * (1 + 1e-9)) << "Adam's first step is bounded by lr";
    EXPECT_LE(rel_l2(ug, uc), update_tol) << "Adam update";
  }
}

}  // namespace

TEST(CudaTrain, FeedsBatchnormNamesTheBiasesBeforeBatchNorm) {
  ResidualUNet m({.base_width = 4});
  int n = 0;
  for (const auto& [name, p] : m.named_parameters()) {
    if (feeds_batchnorm(name)) ++n;
    const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    const bool bn_bias = name.find("bn.bias") != std::string::npos;
    if (bias && !bn_bias) {
      EXPECT_EQ(feeds_batchnorm(name), name != "head.bias") << name;
    } else {
      EXPECT_FALSE(feeds_batchnorm(name)) << name;
    }
  }
  EXPECT_EQ(n, 9 * 5 + 4);
}

// float32, training mode: the forward (logits, loss) — continuous, so float32 rounding stays at its own size.
TEST(CudaTrain, ResidualUNetForwardFloat32) {
  SEG_REQUIRE_GPU();
  Pair m(DType::Float32, true);
  Tensor yc = m.mc.forward(m.x), yg = m.mg.forward(to_test_device(m.x));
  ASSERT_EQ(yg.device(), test_device());
  EXPECT_LE(rel_l2(yg, yc), 1e-3) << "logits";
  const double lc = cross_entropy(yc, m.t).item(), lg = cross_entropy(yg, to_test_device(m.t)).item();
  EXPECT_NEAR(lg, lc, 1e-5 * std::fabs(lc)) << "loss";
}

TEST(CudaTrain, ResidualUNetStepTrainModeFloat64) {
  SEG_REQUIRE_GPU();
  check_step(DType::Float64, true, 1e-7, 1e-7, 1e-9);
}

TEST(CudaTrain, ResidualUNetStepEvalModeFloat64) {
  SEG_REQUIRE_GPU();
  check_step(DType::Float64, false, 1e-7, 1e-7, 0);
}
