// Paper 4's multi-task U-Net: the five parameter counts of the paper's Table 2 (exact), the count with biases from the
// architecture's arithmetic, which heads each variant has and their ranges, separate decoders in the 2dec variants
// (a contour loss reaches only its own decoder) and a shared one in the +Conv variants, input checks, seeded
// determinism, and that Adam steps on the composed loss reduce it.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "kernels/nll.h"
#include "losses/multitask.h"
#include "models/multitask_unet.h"

using namespace seg;

namespace {
MultitaskUNet::Config cfg(MultitaskVariant v, int64_t w = 32, bool bias = false) {
  return {.variant = v, .in_channels = 3, .base_width = w, .bias = bias, .seed = 0};
}
// Σ over the parameters whose name starts with `prefix` of |grad|.
double grad_mass(const Module& m, const std::string& prefix) {
  double s = 0;
  for (const auto& [name, p] : m.named_parameters())
    if (name.rfind(prefix, 0) == 0 && p.grad().defined())
      for (double g : p.grad().to_vector()) s += std::fabs(g);
  return s;
}
}  // namespace

TEST(MultitaskUNet, ParameterCountsEqualThePapersTable2) {
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::M)).num_parameters(), 7844256);
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::TwoDecMC)).num_parameters(), 10978272);
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::TwoDecMD)).num_parameters(), 10977984);
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::ConvMC)).num_parameters(), 7844832);
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::ConvMD)).num_parameters(), 7844544);
}

TEST(MultitaskUNet, CountsFollowTheArchitecturesArithmetic) {
  // encoder: (3·32 + 32·32 + 32·64 + 64·64 + ... + 512·512)·9; one decoder: ((512+256)·256 + 256² + ...)·9
  const int64_t enc = 9 * (3 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 128 + 128 * 128 + 128 * 256 + 256 * 256 +
                           256 * 512 + 512 * 512);
  const int64_t dec = 9 * (768 * 256 + 256 * 256 + 384 * 128 + 128 * 128 + 192 * 64 + 64 * 64 + 96 * 32 + 32 * 32);
  EXPECT_EQ(enc, 4710240);
  EXPECT_EQ(dec, 3133440);
  // Biases add one value per output channel of every conv: encoder 2·(32+…+512), decoder 2·(256+128+64+32), heads.
  const int64_t enc_b = 2 * (32 + 64 + 128 + 256 + 512), dec_b = 2 * (256 + 128 + 64 + 32);
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::M, 32, true)).num_parameters(), enc + dec + 576 + enc_b + dec_b + 2);
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::TwoDecMD, 32, true)).num_parameters(),
            enc + 2 * dec + 576 + 288 + enc_b + 2 * dec_b + 2 + 1);
  // Narrow widths: w = 8 has 1/16 of the w = 32 body weights, except the input conv's (3·w·9) and the heads' (w·9 per
  // output channel), which scale with w.
  EXPECT_EQ(MultitaskUNet(cfg(MultitaskVariant::ConvMC, 8)).num_parameters(),
            (7844832 - 9 * 3 * 32 - 9 * 32 * 4) / 16 + 9 * 3 * 8 + 9 * 8 * 4);
}

TEST(MultitaskUNet, HeadsPerVariantWithTheirRanges) {
  Generator g(3);
  Tensor x = Tensor::empty({2, 3, 32, 64});
  fill_uniform(x, g, -2, 2);
  NoGradGuard ng;
  for (MultitaskVariant v : all_multitask_variants()) {
    MultitaskUNet m(cfg(v, 4));
    const auto out = m.forward(x);
    SCOPED_TRACE(multitask_variant_key(v));
    ASSERT_EQ(out.mask.shape(), (Shape{2, 2, 32, 64}));
    EXPECT_EQ(out.contour.defined(), aux_task(v) == AuxTask::Contour);
    EXPECT_EQ(out.distance.defined(), aux_task(v) == AuxTask::Distance);
    const auto lp = out.mask.to_vector();
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t p = 0; p < 32 * 64; ++p)  // log-probabilities: exp sums to 1 over the two channels
        ASSERT_NEAR(std::exp(lp[(n * 2) * 2048 + p]) + std::exp(lp[(n * 2 + 1) * 2048 + p]), 1.0, 1e-5);
    if (out.contour.defined()) {
      EXPECT_EQ(out.contour.shape(), (Shape{2, 2, 32, 64}));
      for (double c : out.contour.to_vector()) ASSERT_LE(c, 0.0);
    }
    if (out.distance.defined()) {
      EXPECT_EQ(out.distance.shape(), (Shape{2, 1, 32, 64}));
      for (double d : out.distance.to_vector()) ASSERT_TRUE(d > 0 && d < 1);
    }
  }
}

TEST(MultitaskUNet, TwoDecoderVariantsHaveSeparateDecodersAndConvVariantsShareOne) {
  Generator g(4);
  Tensor x = Tensor::empty({1, 3, 32, 32});
  fill_uniform(x, g, -1, 1);
  std::vector<int64_t> lab(32 * 32);
  for (size_t i = 0; i < lab.size(); ++i) lab[i] = (i % 32) > 12 && (i / 32) > 9;
  const Tensor t = Tensor::from_labels(lab, {1, 32, 32});
  {
    MultitaskUNet m(cfg(MultitaskVariant::TwoDecMC, 4));
    std::set<std::string> tops;
    for (const auto& [name, p] : m.named_parameters()) tops.insert(name.substr(0, name.find('.')));
    EXPECT_EQ(tops, (std::set<std::string>{"down1", "down2", "down3", "down4", "down5", "decoder_mask",
                                           "decoder_contour", "mask_head", "contour_head"}));
    // The contour loss alone reaches the encoder and its own decoder, never the mask's decoder or head.
    nll_loss(m.forward(x).contour, t).backward();
    EXPECT_GT(grad_mass(m, "decoder_contour."), 0);
    EXPECT_GT(grad_mass(m, "down1."), 0);
    EXPECT_EQ(grad_mass(m, "decoder_mask."), 0);
    EXPECT_EQ(grad_mass(m, "mask_head."), 0);
  }
  {
    MultitaskUNet m(cfg(MultitaskVariant::ConvMD, 4));
    Tensor d = Tensor::zeros({1, 1, 32, 32});
    mse_loss(m.forward(x).distance, d).backward();
    EXPECT_GT(grad_mass(m, "decoder."), 0);  // the one decoder feeds both heads
    EXPECT_EQ(grad_mass(m, "mask_head."), 0);
  }
}

TEST(MultitaskUNet, InputChecksNameTheProblem) {
  MultitaskUNet m(cfg(MultitaskVariant::M, 4));
  NoGradGuard ng;
  try {
    m.forward(Tensor::zeros({1, 3, 48, 32}));
    ADD_FAILURE() << "48 is not a multiple of 32";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of 32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.forward(Tensor::zeros({1, 1, 32, 32})), Error);  // 3 channels expected
  EXPECT_THROW(parse_multitask_variant("conv-mx"), Error);
  EXPECT_EQ(parse_multitask_variant("Conv_MD"), MultitaskVariant::ConvMD);
  EXPECT_EQ(parse_multitask_variant("2dec-mc"), MultitaskVariant::TwoDecMC);
  EXPECT_STREQ(multitask_variant_paper(MultitaskVariant::ConvMC), "1Enc1Dec+Conv MC");
}

TEST(MultitaskUNet, SeededInitIsDeterministic) {
  MultitaskUNet a(cfg(MultitaskVariant::TwoDecMD, 4)), b(cfg(MultitaskVariant::TwoDecMD, 4));
  auto c_cfg = cfg(MultitaskVariant::TwoDecMD, 4);
  c_cfg.seed = 1;
  MultitaskUNet c(c_cfg);
  const auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].to_vector(), pb[i].to_vector());
  EXPECT_NE(pa[0].to_vector(), pc[0].to_vector());
}

TEST(MultitaskUNet, AdamStepsReduceTheComposedLoss) {
  Generator g(5);
  Tensor x = Tensor::empty({2, 3, 32, 32});
  fill_uniform(x, g, 0, 1);
  std::vector<int64_t> mask(2 * 32 * 32), contour(2 * 32 * 32);
  std::vector<double> dist(2 * 32 * 32);
  for (size_t i = 0; i < mask.size(); ++i) {
    const double yy = static_cast<double>((i / 32) % 32) - 16, xx = static_cast<double>(i % 32) - 16;
    const double r = std::hypot(yy, xx);
    mask[i] = r < 9;
    contour[i] = std::fabs(r - 9) < 2;
    dist[i] = std::min(1.0, std::fabs(r - 9) / 16);
    x.data<float>()[i] += mask[i] ? 0.5f : 0.f;  // channel 0 carries the disc
  }
  const Tensor tm = Tensor::from_labels(mask, {2, 32, 32}), tc = Tensor::from_labels(contour, {2, 32, 32});
  const Tensor td = Tensor::from_vector(dist, {2, 1, 32, 32});
  for (MultitaskVariant v : {MultitaskVariant::ConvMC, MultitaskVariant::TwoDecMD}) {
    MultitaskUNet m(cfg(v, 4));
    Adam opt(m.named_parameters(), 1e-3, 0.9, 0.999);
    double first = 0, last = 0;
    for (int s = 0; s < 12; ++s) {
      const auto o = m.forward(x);
      const MultitaskLoss l = multitask_loss(o.mask, tm, o.contour, o.contour.defined() ? tc : Tensor(), o.distance,
                                             o.distance.defined() ? td : Tensor());
      if (s == 0) first = l.total.item();
      last = l.total.item();
      opt.zero_grad();
      l.total.backward();
      opt.step();
    }
    EXPECT_LT(last, 0.8 * first) << multitask_variant_key(v);
  }
}
