// Residual U-Net: output shape, parameter counts (reference: 19.65 M for 2 classes), CoordConv weight counts
// ((c_in + 2)·c_out·k² per coordinate conv), seeded determinism, and that Adam steps reduce the loss.
#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "kernels/nll.h"
#include "models/residual_unet.h"

using namespace seg;

TEST(ResidualUNet, OutputShapeAndReferenceParameterCount) {
  ResidualUNet m({.classes = 2, .coord = CoordPlacement::None, .seed = 0});
  EXPECT_NEAR(static_cast<double>(m.num_parameters()), 19.65e6, 0.01e6);  // the reference implementation: 19.65 M
  Tensor x = Tensor::zeros({2, 1, 32, 48});
  NoGradGuard ng;
  m.eval();
  EXPECT_EQ(m.forward(x).shape(), (Shape{2, 2, 32, 48}));
  EXPECT_THROW(m.forward(Tensor::zeros({1, 1, 30, 32})), Error);
}

TEST(ResidualUNet, CoordConvVariantsAddTwoInputChannelsPerCoordinateConv) {
  const int64_t base = ResidualUNet({.classes = 2, .coord = CoordPlacement::None}).num_parameters();
  // 1st: only the input conv (1→32, 3×3) gets 2 extra input channels
  EXPECT_EQ(ResidualUNet({.classes = 2, .coord = CoordPlacement::First}).num_parameters() - base, 2 * 32 * 9);
  // enc: every conv of the four encoder blocks and the bridge (5 convs each)
  int64_t enc = 0;
  for (int64_t c : {32, 64, 128, 256, 512}) enc += 5 * 2 * c * 9;
  EXPECT_EQ(ResidualUNet({.classes = 2, .coord = CoordPlacement::Encoder}).num_parameters() - base, enc);
  // all: also the transposed convs, the decoder blocks and the head
  int64_t all = enc;
  for (int64_t c : {256, 128, 64, 32}) all += 2 * c * 9 + 5 * 2 * c * 9;
  all += 2 * 2 * 9;
  EXPECT_EQ(ResidualUNet({.classes = 2, .coord = CoordPlacement::All}).num_parameters() - base, all);
}

TEST(ResidualUNet, SeededInitIsDeterministic) {
  ResidualUNet a({.coord = CoordPlacement::All, .seed = 7}), b({.coord = CoordPlacement::All, .seed = 7}),
      c({.coord = CoordPlacement::All, .seed = 8});
  auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
  EXPECT_EQ(pa[0].to_vector(), pb[0].to_vector());
  EXPECT_NE(pa[0].to_vector(), pc[0].to_vector());
}

TEST(ResidualUNet, AdamStepsReduceTheLossOnAFixedBatch) {
  ResidualUNet m({.base_width = 8, .coord = CoordPlacement::First, .seed = 3});  // narrow widths keep the test fast
  Adam opt(m.named_parameters(), 1e-3);
  Generator g(5);
  Tensor x = Tensor::empty({2, 1, 16, 16});
  fill_uniform(x, g, 0, 1);
  std::vector<int64_t> lab(2 * 16 * 16);
  for (size_t i = 0; i < lab.size(); ++i) lab[i] = x.data<float>()[i] > 0.5f;
  Tensor t = Tensor::from_labels(lab, {2, 16, 16});
  double first = 0, last = 0;
  for (int s = 0; s < 15; ++s) {
    Tensor loss = cross_entropy(m.forward(x), t);
    if (s == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.7 * first);
}
