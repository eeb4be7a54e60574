// One training step of the residual U-Net on CUDA matches the same step on the CPU: the loss, every parameter
// gradient and the parameters after an Adam step (looser tolerances: ~60 layers of float32 sums in other orders).
#include "cuda_test_util.h"
#include "engine/optim.h"
#include "kernels/nll.h"
#include "models/residual_unet.h"

using namespace seg;
using namespace seg::cudatest;

TEST(CudaTrain, ResidualUNetStepMatchesCpu) {
  SEG_REQUIRE_GPU();
  const ResidualUNet::Config cfg{.classes = 2, .coord = CoordPlacement::All, .seed = 3};
  ResidualUNet mc(cfg), mg(cfg);
  mg.to(Device::CUDA);
  mc.train();
  mg.train();
  Tensor x = rand_tensor({2, 1, 32, 32}, 1, -1, 1, false);
  Tensor t = rand_labels({2, 32, 32}, 2, 2);
  Adam oc(mc.named_parameters(), 1e-3), og(mg.named_parameters(), 1e-3);
  Tensor lc = cross_entropy(mc.forward(x), t);
  Tensor lg = cross_entropy(mg.forward(x.to(Device::CUDA)), t.to(Device::CUDA));
  EXPECT_NEAR(lg.item(), lc.item(), 1e-4 * std::fabs(lc.item()) + 1e-5);
  lc.backward();
  lg.backward();
  auto pc = mc.named_parameters(), pg = mg.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (size_t i = 0; i < pc.size(); ++i) {
    SCOPED_TRACE(pc[i].first);
    ASSERT_TRUE(pg[i].second.is_cuda());
    EXPECT_TRUE(close(pg[i].second.grad(), pc[i].second.grad(), 2e-2, 1e-4));
  }
  oc.step();
  og.step();
  for (size_t i = 0; i < pc.size(); ++i) {
    SCOPED_TRACE(pc[i].first);
    EXPECT_TRUE(close(pg[i].second, pc[i].second, 1e-3, 1e-4));
  }
}
