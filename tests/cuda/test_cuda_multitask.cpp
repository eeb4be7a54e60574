// Paper 4's multi-task U-Net (every variant) on the test device against the CPU: the heads' outputs and the composed
// loss in float32 (continuous, so float32 rounding stays small: rel L2 ≤ 1e-3), and every parameter gradient of the
// composed loss in float64 on both sides (rel L2 ≤ 1e-7) — in float32 a ReLU input within rounding of 0 may take the
// other branch on one side and move the gradients upstream of it by percents (see test_cuda_train.cpp), a property of
// the comparison, not a bug.
#include <cmath>

#include "cuda_test_util.h"
#include "losses/multitask.h"
#include "models/multitask_unet.h"

using namespace seg;
using namespace seg::cudatest;

namespace {

double rel_l2(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) num += (x[i] - y[i]) * (x[i] - y[i]), den += y[i] * y[i];
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

void params_to_float64(Module& m) {  // test-only: the engine's modules are float32
  for (const auto& [n, t] : m.named_parameters()) {
    Tensor c = t.detach().to(DType::Float64);
    t.impl()->storage = c.impl()->storage;
    t.impl()->dtype = DType::Float64;
  }
}

Tensor composed(const MultitaskUNet::Output& o, const Tensor& tm, const Tensor& tc, const Tensor& td) {
  return multitask_loss(o.mask, tm, o.contour, o.contour.defined() ? tc : Tensor(), o.distance,
                        o.distance.defined() ? td : Tensor())
      .total;
}

}  // namespace

TEST(CudaMultitask, EveryVariantMatchesTheCpu) {
  SEG_REQUIRE_GPU();
  const Tensor x = rand_tensor({2, 3, 64, 64}, 1, -1, 1, false);
  const Tensor tm = rand_labels({2, 64, 64}, 2, 2), tc = rand_labels({2, 64, 64}, 2, 3);
  const Tensor td = rand_tensor({2, 1, 64, 64}, 4, 0, 1, false);
  for (MultitaskVariant v : all_multitask_variants()) {
    SCOPED_TRACE(multitask_variant_key(v));
    const MultitaskUNet::Config cfg{.variant = v, .base_width = 4, .seed = 5};
    {  // float32 forward
      MultitaskUNet mc(cfg), mg(cfg);
      mg.to(test_device());
      const auto oc = mc.forward(x), og = mg.forward(to_test_device(x));
      EXPECT_LE(rel_l2(og.mask, oc.mask), 1e-3);
      if (oc.contour.defined()) {
        EXPECT_LE(rel_l2(og.contour, oc.contour), 1e-3);
      }
      if (oc.distance.defined()) {
        EXPECT_LE(rel_l2(og.distance, oc.distance), 1e-3);
      }
      const double lc = composed(oc, tm, tc, td).item();
      const double lg = composed(og, to_test_device(tm), to_test_device(tc), to_test_device(td)).item();
      EXPECT_NEAR(lg, lc, 1e-5 * std::fabs(lc));
    }
    {  // float64 loss and gradients
      MultitaskUNet mc(cfg), mg(cfg);
      params_to_float64(mc);
      params_to_float64(mg);
      mg.to(test_device());
      const Tensor x64 = x.to(DType::Float64), td64 = td.to(DType::Float64);
      const Tensor lc = composed(mc.forward(x64), tm, tc, td64);
      const Tensor lg = composed(mg.forward(to_test_device(x64)), to_test_device(tm), to_test_device(tc), to_test_device(td64));
      EXPECT_NEAR(lg.item(), lc.item(), 1e-10 * std::fabs(lc.item()));
      lc.backward();
      lg.backward();
      const auto pc = mc.named_parameters(), pg = mg.named_parameters();
      ASSERT_EQ(pc.size(), pg.size());
      for (size_t i = 0; i < pc.size(); ++i) {
        SCOPED_TRACE(pc[i].first);
        ASSERT_EQ(pg[i].second.device(), test_device());
        ASSERT_TRUE(pc[i].second.grad().defined() && pg[i].second.grad().defined());
        EXPECT_LE(rel_l2(pg[i].second.grad(), pc[i].second.grad()), 1e-7);
      }
    }
  }
}
