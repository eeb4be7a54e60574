// CUDA vs CPU for paper 5: the composed descriptor loss (softmax → moments, Laplacian, log-barrier on per-slice bounds
// and the ACDC priors; logits gradient) and ENet (every kernel family it uses: strided, dilated and 5×1 / 1×5 convs,
// BatchNorm, PReLU, dropout masks, max-pool indices and max-unpool, nearest upsampling).
// Key decision (as test_cuda_train.cpp): ENet is compared where float32 is continuous — the training-mode logits (batch
// statistics, the same dropout masks on both sides: each model draws them from its own generator seeded alike) — and
// its gradients in float64, where a PReLU input within float32 rounding of 0 cannot flip a slope: per-tensor relative
// L2 of every parameter gradient and of the input gradient.
#include <cmath>

#include "cuda_test_util.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "losses/descriptor_loss.h"
#include "models/enet.h"

using namespace seg;
using namespace seg::cudatest;
using V = std::vector<Tensor>;

namespace {

// A heart-like label map (N, H, W): LV disc (3) in a myocardial ring (2), an RV blob (1) beside them.
Tensor heart_labels(int64_t N, int64_t H, int64_t W) {
  std::vector<int64_t> v(static_cast<size_t>(N * H * W), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const double cy = 0.5 * H + n, cx = 0.45 * W + n, r = std::hypot(y - cy, x - cx);
        int64_t k = r < 0.22 * H ? 2 : 0;
        if (r < 0.12 * H) k = 3;
        if (std::hypot(y - cy, x - cx - 0.33 * W) < 0.14 * H) k = 1;
        v[static_cast<size_t>((n * H + y) * W + x)] = k;
      }
  return Tensor::from_labels(v, {N, H, W});
}

double rel_l2(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - y[i]) * (x[i] - y[i]);
    den += y[i] * y[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

void module_to_dtype(Module& m, DType dtype) {
  for (const auto& list : {m.named_parameters(), m.named_buffers()})
    for (const auto& [n, t] : list) {
      Tensor c = t.detach().to(dtype);
      t.impl()->storage = c.impl()->storage;
      t.impl()->dtype = dtype;
    }
}

}  // namespace

TEST(CudaPaper5, DescriptorLoss) {
  SEG_REQUIRE_GPU();
  const Tensor lab = heart_labels(2, 24, 32);
  for (const char* ds : {"acdc", "promise12"}) {
    const DescriptorLossConfig cfg = paper5_descriptor_config(ds);
    const int64_t K = std::string(ds) == "acdc" ? 4 : 2;
    Tensor l = lab;
    if (K == 2) {
      auto v = lab.to_labels();
      for (auto& x : v) x = x == 3;
      l = Tensor::from_labels(v, lab.shape());
    }
    const DescriptorBounds b = descriptor_bounds(l, K, cfg);
    for (double t : {1.0, 5.0})
      compare_devices([&](const V& v) { return descriptor_loss(softmax(v[0], 1), b, cfg, t).total; },
                      {rand_tensor({2, K, 24, 32}, 40, -2, 2)}, {1e-4, 1e-6});
  }
}

TEST(CudaPaper5, ENetTrainingStep) {
  SEG_REQUIRE_GPU();
  const ENet::Config cfg{.in_channels = 1, .classes = 4, .seed = 9};
  const Tensor x0 = rand_tensor({2, 1, 32, 24}, 50, 0, 1, false);
  // float32, training mode: logits
  {
    ENet a(cfg), b(cfg);
    b.to(test_device());
    a.train();
    b.train();
    NoGradGuard ng;
    EXPECT_TRUE(close(b.forward(to_test_device(x0)), a.forward(x0), 1e-3, 1e-4)) << "training-mode logits";
  }
  // float64, training mode: every gradient
  ENet a(cfg), b(cfg);
  module_to_dtype(a, DType::Float64);
  module_to_dtype(b, DType::Float64);
  b.to(test_device());
  a.train();
  b.train();
  Tensor xa = x0.to(DType::Float64), xb = to_test_device(xa);
  xa.set_requires_grad(true);
  xb.set_requires_grad(true);
  const Tensor g = rand_tensor({2, 4, 32, 24}, 51, -1, 1, false).to(DType::Float64);
  sum_all(mul(a.forward(xa), g)).backward();
  sum_all(mul(b.forward(xb), to_test_device(g))).backward();
  EXPECT_LE(rel_l2(xb.grad(), xa.grad()), 1e-7) << "input gradient";
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  int compared = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!pa[i].second.grad().defined()) {  // the authors' unused heads and PReLUs
      EXPECT_FALSE(pb[i].second.grad().defined()) << pa[i].first;
      continue;
    }
    // conv biases feeding a BatchNorm have an exact gradient of 0 in training mode: rounding noise on both sides
    const std::string& n = pa[i].first;
    if (n.find(".conv.bias") != std::string::npos || n.find("asym_1x5.bias") != std::string::npos) continue;
    EXPECT_LE(rel_l2(pb[i].second.grad(), pa[i].second.grad()), 1e-7) << pa[i].first;
    ++compared;
  }
  EXPECT_GT(compared, 200);
}
