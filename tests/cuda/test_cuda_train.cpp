// One training step of the residual U-Net (coordconv everywhere: every conv, deconv and CoordConv kernel family)
// on the test device matches the same step on the CPU: the loss, every parameter gradient and the Adam update.
// Key decision: the comparison can fail only for a real bug. Per element, two correct float32 backends cannot agree on
// this model in training mode: its BatchNorm layers see few values per channel deep in the network (8 at the bridge),
// which amplifies rounding differences ~10^5-fold (docs/cuda_backend.md, "Why the training-mode step is so
// sensitive"). So:
//  * float32 with BatchNorm in eval mode (running statistics from one training-mode pass): a well-conditioned step;
//    per-tensor relative L2 ≤ 1e-4, where rounding gives ~1e-6 and a wrong index or a missing term gives ≥ 1e-2;
//  * training mode (batch statistics) in float64 on both sides: rounding ~1e-16 amplified stays ≤ 1e-10, checked at
//    1e-7 per tensor. The conv and deconv biases that feed a BatchNorm have an exact gradient of 0 in training mode (BN
//    removes any per-channel constant), so their computed gradients are noise: they are checked to be ~0, not
//    compared, and their Adam update (±lr·sign(noise)) is left out.
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

struct StepCheck {
  bool train_mode;
  DType dtype;
  double grad_tol;    // per-tensor relative L2 of the gradients
  double update_tol;  // per-tensor relative L2 of the Adam updates
  double zero_grad;   // |gradient| bound for the biases that feed a BatchNorm (training mode only)
};

void check_step(const StepCheck& s) {
  ResidualUNet mc(1, 2, CoordPlacement::All, 3), mg(1, 2, CoordPlacement::All, 3);
  Tensor x = rand_tensor({2, 1, 32, 32}, 1, -1, 1, false).to(s.dtype);
  Tensor t = rand_labels({2, 32, 32}, 2, 2);
  if (s.dtype != DType::Float32) {
    module_to_dtype(mc, s.dtype);
    module_to_dtype(mg, s.dtype);
  }
  if (!s.train_mode) {
    mc.train();
    (void)mc.forward(x);  // running statistics from one training-mode pass (momentum 0.1 over the initial 0 / 1)
    copy_state(mc, mg);
  }
  mg.to(test_device());
  mc.train(s.train_mode);
  mg.train(s.train_mode);
  Params pc = mc.named_parameters(), pg = mg.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  std::vector<Tensor> before;
  for (const auto& [n, p] : pc) before.push_back(p.clone());

  Adam oc(pc, 1e-3), og(pg, 1e-3);
  Tensor lc = cross_entropy(mc.forward(x), t);
  Tensor lg = cross_entropy(mg.forward(to_test_device(x)), to_test_device(t));
  EXPECT_NEAR(lg.item(), lc.item(), 1e-5 * std::fabs(lc.item()));
  lc.backward();
  lg.backward();

  int zero_biases = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    SCOPED_TRACE(pc[i].first);
    ASSERT_EQ(pg[i].second.device(), test_device());
    const Tensor gc = pc[i].second.grad(), gg = pg[i].second.grad();
    ASSERT_TRUE(gc.defined() && gg.defined());
    if (s.train_mode && feeds_batchnorm(pc[i].first)) {
      ++zero_biases;
      EXPECT_LE(max_abs(gc), s.zero_grad) << "CPU: the exact gradient of a bias before BatchNorm is 0";
      EXPECT_LE(max_abs(gg), s.zero_grad) << "test device: the exact gradient of a bias before BatchNorm is 0";
      continue;
    }
    EXPECT_LE(rel_l2(gg, gc), s.grad_tol) << "gradient (max |g| " << max_abs(gc) << ")";
  }
  if (s.train_mode) {
    EXPECT_EQ(zero_biases, 9 * 5 + 4) << "biases before BatchNorm: 9 blocks × 5 + 4 deconvs";
  }

  oc.step();
  og.step();
  for (size_t i = 0; i < pc.size(); ++i) {
    SCOPED_TRACE(pc[i].first);
    if (s.train_mode && feeds_batchnorm(pc[i].first)) continue;
    const Tensor dc = pc[i].second.detach().to(Device::CPU).to(DType::Float64);
    const Tensor dg = pg[i].second.detach().to(Device::CPU).to(DType::Float64);
    const Tensor b = before[i].to(DType::Float64);
    auto minus = [](const Tensor& p, const Tensor& q) {
      auto u = p.to_vector(), v = q.to_vector();
      for (size_t k = 0; k < u.size(); ++k) u[k] -= v[k];
      return Tensor::from_vector(u, p.shape(), DType::Float64);
    };
    const Tensor uc = minus(dc, b), ug = minus(dg, b);
    EXPECT_GT(max_abs(uc), 0) << "Adam did not move the parameter";
    EXPECT_LE(max_abs(uc), 1e-3 * (1 + 1e-3)) << "Adam's first step is bounded by lr (plus the parameter's rounding)";
    EXPECT_LE(rel_l2(ug, uc), s.update_tol) << "Adam update";
  }
}

}  // namespace

TEST(CudaTrain, FeedsBatchnormNamesTheBiasesBeforeBatchNorm) {
  ResidualUNet m(1, 2, CoordPlacement::None, 0, 4);
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

TEST(CudaTrain, ResidualUNetStepEvalModeFloat32) {
  SEG_REQUIRE_GPU();
  check_step({false, DType::Float32, 1e-4, 1e-3, 0});
}

TEST(CudaTrain, ResidualUNetStepTrainModeFloat64) {
  SEG_REQUIRE_GPU();
  check_step({true, DType::Float64, 1e-7, 1e-6, 1e-9});
}
