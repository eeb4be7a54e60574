// Paper 4's multi-task U-Net on CUDA against the CPU, every variant: the heads' outputs, the composed loss, every
// parameter gradient. Without a usable GPU (or without the CUDA backend) it skips with the reason; the CPU side is
// checked against PyTorch by test_multitask_reference.cpp.
#include "../cuda/cuda_test_util.h"
#include "losses/multitask.h"
#include "models/multitask_unet.h"

using namespace seg;
using namespace seg::cudatest;

TEST(CudaMultitask, EveryVariantMatchesCpu) {
  SEG_REQUIRE_GPU();
  const Tensor x = rand_tensor({2, 3, 64, 64}, 1, -1, 1, false);
  const Tensor tm = rand_labels({2, 64, 64}, 2, 2), tc = rand_labels({2, 64, 64}, 2, 3);
  const Tensor td = rand_tensor({2, 1, 64, 64}, 4, 0, 1, false);
  for (MultitaskVariant v : all_multitask_variants()) {
    SCOPED_TRACE(multitask_variant_key(v));
    const MultitaskUNet::Config cfg{.variant = v, .base_width = 8, .seed = 5};
    MultitaskUNet mc(cfg), mg(cfg);
    mg.to(Device::CUDA);
    const auto oc = mc.forward(x), og = mg.forward(x.to(Device::CUDA));
    EXPECT_TRUE(close(og.mask, oc.mask, 1e-3, 1e-4));
    EXPECT_TRUE(close(og.contour, oc.contour, 1e-3, 1e-4));
    EXPECT_TRUE(close(og.distance, oc.distance, 1e-3, 1e-4));
    auto loss = [&](const MultitaskUNet::Output& o, Device d) {
      return multitask_loss(o.mask, tm.to(d), o.contour, o.contour.defined() ? tc.to(d) : Tensor(), o.distance,
                            o.distance.defined() ? td.to(d) : Tensor())
          .total;
    };
    const Tensor lc = loss(oc, Device::CPU), lg = loss(og, Device::CUDA);
    EXPECT_NEAR(lg.item(), lc.item(), 1e-4 * std::fabs(lc.item()) + 1e-5);
    lc.backward();
    lg.backward();
    const auto pc = mc.named_parameters(), pg = mg.named_parameters();
    ASSERT_EQ(pc.size(), pg.size());
    for (size_t i = 0; i < pc.size(); ++i) {
      SCOPED_TRACE(pc[i].first);
      EXPECT_TRUE(close(pg[i].second.grad(), pc[i].second.grad(), 2e-2, 1e-4));
    }
  }
}
