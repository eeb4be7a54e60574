// The 3-D backbones of paper 3 and the edge-gated stream: exact parameter counts (MONAI's SegResNet 4,702,227 and
// 1,176,843; the PyTorch benchmark's 3-D U-Net 1,401,282; Milletari's V-Net with GN 61,989,018), the EG-CNN's count
// as backbone + stream + wider head, output shapes, that the stream leaves the backbone's weights unchanged, that the
// edge-gated layer computes eqs. (1)–(2), that Adam steps reduce a loss, and errors for bad configurations.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "models/egcnn.h"
#include "models/segresnet.h"
#include "models/unet3d.h"
#include "models/vnet.h"

using namespace seg;

namespace {
int64_t conv(int64_t in, int64_t out, int64_t k, bool bias) { return in * out * k * k * k + (bias ? out : 0); }
Tensor random_input(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor x = Tensor::empty(s);
  fill_normal(x, g, 0, 1);
  return x;
}
}  // namespace

TEST(Models3d, GroupCountIsTheLargestDivisorNotAboveTheMaximum) {
  EXPECT_EQ(group_count(16, 8), 8);
  EXPECT_EQ(group_count(4, 8), 4);
  EXPECT_EQ(group_count(12, 8), 6);
  EXPECT_EQ(group_count(7, 8), 7);
  EXPECT_EQ(group_count(14, 8), 7);
  EXPECT_EQ(group_count(1, 8), 1);
  EXPECT_THROW(group_count(0, 8), Error);
}

TEST(Models3d, SegResNetMatchesMonaisParameterCounts) {
  // MONAI SegResNet(in_channels=4, out_channels=3, init_filters=16), defaults otherwise.
  EXPECT_EQ(SegResNet({.in_channels = 4, .classes = 3, .init_filters = 16}).num_parameters(), 4702227);
  EXPECT_EQ(SegResNet({.in_channels = 4, .classes = 3, .init_filters = 8}).num_parameters(), 1176843);
  // By hand: a residual block of c channels holds 2 GN (4c) and two bias-free 3³ convs (54c²).
  auto block = [](int64_t c) { return 54 * c * c + 4 * c; };
  int64_t n = conv(1, 8, 3, false);
  const int blocks[4] = {1, 2, 2, 4};
  for (int l = 0; l < 4; ++l) n += (l ? conv(8 << (l - 1), 8 << l, 3, false) : 0) + blocks[l] * block(8 << l);
  for (int l = 2; l >= 0; --l) n += conv(8 << (l + 1), 8 << l, 1, false) + block(8 << l);
  n += 2 * 8 + conv(8, 2, 1, true);
  EXPECT_EQ(SegResNet({.in_channels = 1, .classes = 2}).num_parameters(), n);
}

TEST(Models3d, UNet3dMatchesTheBenchmarkDefinitionCount) {
  EXPECT_EQ(UNet3d({.in_channels = 1, .classes = 2}).num_parameters(), 1401282);
  EXPECT_EQ(UNet3d({.in_channels = 4, .classes = 4}).num_parameters(), 1402612);
}

TEST(Models3d, VNetCountFollowsMilletarisStagesWithGroupNorm) {
  // Stage of n convs of width w (first from `in`): n convs with bias + n GN + PReLU slopes between and after.
  auto stage = [](int64_t in, int64_t w, int n) {
    int64_t s = 0;
    for (int j = 0; j < n; ++j) s += conv(j ? w : in, w, 5, true) + 2 * w + (j + 1 < n ? w : 0);
    return s + w;
  };
  const int down[5] = {1, 1, 2, 3, 3}, up[4] = {3, 2, 1, 1};
  int64_t n = 0;
  for (int l = 0; l < 5; ++l) {
    const int64_t w = 16 << l;
    if (l) n += conv(w / 2, w, 2, true) + 2 * w + w;
    n += stage(l ? w : 1, w, down[l]);
  }
  int64_t c = 256;
  for (int j = 0; j < 4; ++j) {
    const int64_t w = 16 << (3 - j);
    n += conv(c, w, 2, true) + 2 * w + w + stage(2 * w, 2 * w, up[j]);
    c = 2 * w;
  }
  n += conv(32, 2, 5, true) + 2 + conv(2, 2, 1, true);
  EXPECT_EQ(n, 61989018);
  EXPECT_EQ(VNet({.in_channels = 1, .classes = 2}).num_parameters(), n);
}

TEST(Models3d, BackbonesMapInputsToClassLogitsAndExposeTheirFeatures) {
  NoGradGuard ng;
  for (const std::string& name : backbone_names()) {
    Net3d net({.backbone = name, .in_channels = 2, .classes = 3, .width = 2, .seed = 1});
    const int64_t S = net.divisor();
    const Tensor x = random_input({2, 2, S, 2 * S, S}, 3);
    const Net3d::Output o = net.forward(x);
    EXPECT_EQ(o.logits.shape(), (Shape{2, 3, S, 2 * S, S})) << name;
    EXPECT_FALSE(o.edge_logits.defined()) << name;
    const BackboneFeatures f = net.backbone().features(x);
    const std::vector<int64_t> ch = net.backbone().encoder_channels();
    ASSERT_EQ(f.encoder.size(), ch.size()) << name;
    for (size_t l = 0; l < ch.size(); ++l)
      EXPECT_EQ(f.encoder[l].shape(), (Shape{2, ch[l], S >> l, (2 * S) >> l, S >> l})) << name << " level " << l;
    const size_t L = ch.size();
    EXPECT_EQ(f.decoder_first.shape(),
              (Shape{2, net.backbone().decoder_first_channels(), S >> (L - 2), (2 * S) >> (L - 2), S >> (L - 2)}))
        << name;
    EXPECT_EQ(f.decoder_last.shape(), (Shape{2, net.backbone().decoder_last_channels(), S, 2 * S, S})) << name;
    EXPECT_THROW(net.forward(random_input({1, 2, S + 1, S, S}, 1)), Error) << name;
    EXPECT_THROW(net.forward(random_input({1, 3, S, S, S}, 1)), Error) << name;
  }
}

TEST(Models3d, EdgeStreamAddsItsCountAndAWiderHeadAndLeavesTheBackboneUnchanged) {
  NoGradGuard ng;
  const int64_t K = 4, Ce = 8;
  for (const std::string& name : backbone_names()) {
    Net3d plain({.backbone = name, .in_channels = 1, .classes = K, .width = 8, .seed = 5});
    Net3d edge({.backbone = name, .in_channels = 1, .classes = K, .width = 8, .edge = true, .edge_width = Ce, .seed = 5});
    const Backbone3d& b = plain.backbone();
    const std::vector<int64_t> ch = b.encoder_channels();
    const size_t L = ch.size();
    // The stream: residual blocks (two bias-free 3³ convs + 2 GN, 1×1×1 projection when the width changes), gates
    // (W_e, W_m, W_α, w_l: 1×1×1 convs with bias), the 1×1×1 edge output.
    int64_t stream = 0, in = b.decoder_first_channels();
    for (size_t l = L - 3;; --l) {
      stream += conv(in, Ce, 3, false) + 2 * Ce + conv(Ce, Ce, 3, false) + 2 * Ce + (in != Ce ? conv(in, Ce, 1, false) : 0);
      stream += conv(Ce, Ce, 1, true) + conv(ch[l], Ce, 1, true) + conv(Ce, 1, 1, true) + conv(Ce, Ce, 1, true);
      in = Ce;
      if (l == 0) break;
    }
    stream += conv(Ce, 1, 1, true);
    // The head takes C_e more input channels.
    int64_t head = 0;
    if (name == "unet3d") head = Ce * K;
    if (name == "vnet") head = Ce * K * 125;
    if (name == "segresnet") head = Ce * K + 2 * Ce;  // its GN widens too
    EXPECT_EQ(edge.num_parameters() - plain.num_parameters(), stream + head) << name;
    EXPECT_EQ(edge.edge_channels(), 1);
    // Every backbone weight outside the head is drawn identically.
    auto pe = edge.named_parameters();
    std::map<std::string, Tensor> by_name(pe.begin(), pe.end());
    int compared = 0;
    for (const auto& [n, t] : plain.named_parameters()) {
      if (n.find("head") != std::string::npos) continue;
      ASSERT_TRUE(by_name.count(n)) << n;
      EXPECT_EQ(t.to_vector(), by_name[n].to_vector()) << n;
      ++compared;
    }
    EXPECT_GT(compared, 10) << name;
    const int64_t S = edge.divisor();
    const Net3d::Output o = edge.forward(random_input({1, 1, S, S, S}, 9));
    EXPECT_EQ(o.logits.shape(), (Shape{1, K, S, S, S})) << name;
    EXPECT_EQ(o.edge_logits.shape(), (Shape{1, 1, S, S, S})) << name;
  }
  Net3d per_class({.backbone = "unet3d", .classes = K, .width = 4, .edge = true, .edge_width = 4, .edge_per_class = true});
  EXPECT_EQ(per_class.edge_channels(), K - 1);
}

TEST(Models3d, EdgeGatedLayerComputesEquationsOneAndTwo) {
  NoGradGuard ng;
  Generator g(11);
  EdgeGatedLayer gate(3, 5, g);
  const Tensor e = random_input({1, 3, 2, 3, 2}, 1), m = random_input({1, 5, 2, 3, 2}, 2);
  const auto p = gate.named_parameters();
  std::map<std::string, std::vector<double>> w;
  for (const auto& [n, t] : p) w[n] = t.to_vector();
  const std::vector<double> ev = e.to_vector(), mv = m.to_vector(), out = gate.forward(e, m).to_vector();
  const int64_t V = 12;
  for (int64_t v = 0; v < V; ++v) {
    double pre[3], a = w["w_alpha.bias"][0];
    for (int o = 0; o < 3; ++o) {
      double s = w["w_e.bias"][o] + w["w_m.bias"][o];
      for (int i = 0; i < 3; ++i) s += w["w_e.weight"][o * 3 + i] * ev[i * V + v];
      for (int i = 0; i < 5; ++i) s += w["w_m.weight"][o * 5 + i] * mv[i * V + v];
      pre[o] = std::max(0.0, s);
    }
    for (int o = 0; o < 3; ++o) a += w["w_alpha.weight"][o] * pre[o];
    const double alpha = 1 / (1 + std::exp(-a));
    for (int o = 0; o < 3; ++o) {
      double s = w["w_out.bias"][o];
      for (int i = 0; i < 3; ++i) s += w["w_out.weight"][o * 3 + i] * (ev[i * V + v] * alpha + ev[i * V + v]);
      EXPECT_NEAR(out[o * V + v], s, 1e-5);
    }
  }
}

TEST(Models3d, AdamStepsReduceTheLossOfEachNetworkWithItsEdgeStream) {
  for (const std::string& name : backbone_names()) {
    // Three resolutions (the fewest the stream takes) keep it fast.
    Net3d net({.backbone = name, .in_channels = 1, .classes = 2, .width = 4, .levels = 3, .edge = true,
               .edge_width = 4, .seed = 2});
    Adam opt(net.named_parameters(), 3e-3);
    const int64_t S = 2 * net.divisor();
    const Tensor x = random_input({1, 1, S, S, S}, 4);
    std::vector<int64_t> lab(static_cast<size_t>(S * S * S));
    const std::vector<double> xv = x.to_vector();
    for (size_t i = 0; i < lab.size(); ++i) lab[i] = xv[i] > 0.3;
    const Tensor t = Tensor::from_labels(lab, {1, S, S, S});
    double first = 0, last = 0;
    for (int s = 0; s < 12; ++s) {
      const Net3d::Output o = net.forward(x);
      Tensor loss = add(cross_entropy(o.logits, t), mean_all(square(o.edge_logits)));
      if (s == 0) first = loss.item();
      last = loss.item();
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    EXPECT_LT(last, 0.8 * first) << name;
  }
}

TEST(Models3d, BadConfigurationsAreRefusedWithTheFieldNamed) {
  EXPECT_THROW(Net3d({.backbone = "resnet"}), Error);
  EXPECT_THROW(UNet3d({.widths = {16}}), Error);
  EXPECT_THROW(VNet({.down_convs = {1, 1, 2}, .up_convs = {1}}), Error);
  EXPECT_THROW(VNet({.kernel = 4}), Error);
  EXPECT_THROW(SegResNet({.blocks_down = {1, 2}, .blocks_up = {1, 1}}), Error);
  EXPECT_THROW(Net3d({.backbone = "unet3d", .levels = 2, .edge = true}), Error);  // the stream gates L − 2 ≥ 1 levels
  try {
    Net3d({.backbone = "vnet3"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unet3d, vnet or segresnet"), std::string::npos);
  }
}

TEST(Models3d, SegResNetVaeBranchCountsAsMonaisAndTrains) {
  // MONAI SegResNetVAE(input_image_size=(128, 128, 128), in_channels=4, out_channels=3, init_filters=8), counted by the
  // same rules: the backbone + vae_down (GN 64, conv3 64→16 with bias, GN 16) + fc1, fc2 (16·8³ → 256) + fc3
  // (256 → 16·8³) + conv1 16→64 + GN 64 + the final GN 8 + conv1 8→4 (bias).
  const int64_t total = 16 * 8 * 8 * 8;
  const int64_t vae = 2 * 64 + conv(64, 16, 3, true) + 2 * 16 + 2 * (total * 256 + 256) + (256 * total + total) +
                      conv(16, 64, 1, false) + 2 * 64 + 2 * 8 + conv(8, 4, 1, true);
  SegResNet::Config c{.in_channels = 4, .classes = 3, .init_filters = 8, .vae = true, .vae_input = {128, 128, 128}};
  EXPECT_EQ(SegResNet(c).num_parameters(), 1176843 + vae);
  EXPECT_EQ(1176843 + vae, 7506031);
  // A small one: the loss is finite, positive, and Adam steps on it reduce it. (At least 2³ latent maps: from a 1³ map
  // the decoder's GroupNorms see constant maps and the branch cannot learn.)
  Net3d net({.backbone = "segresnet", .in_channels = 2, .classes = 2, .width = 4, .levels = 3, .seed = 3,
             .vae = true, .vae_input = {16, 16, 16}});
  // A smooth input the auto-encoder can learn to reproduce (an offset plus ramps along z and x).
  Tensor x = Tensor::empty({1, 2, 16, 16, 16});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = 1.0f + 0.1f * static_cast<float>((i / 256) % 16) + 0.05f * static_cast<float>(i % 16);
  Generator g(1);
  Adam opt(net.named_parameters(), 1e-2);
  double first = 0, last = 0;
  for (int s = 0; s < 15; ++s) {
    Generator noise(7);  // the same ε every step, so the loss is comparable
    const Net3d::Output o = net.forward(x, &noise);
    ASSERT_TRUE(o.vae_loss.defined());
    if (s == 0) first = o.vae_loss.item();
    last = o.vae_loss.item();
    Tensor loss = o.vae_loss;
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_GT(first, 0);
  EXPECT_LT(last, 0.75 * first);  // 6.14 → 3.79 here
  net.eval();
  EXPECT_FALSE(net.forward(x, &g).vae_loss.defined());  // no VAE at inference
  net.train();
  EXPECT_THROW(net.forward(random_input({1, 2, 32, 16, 16}, 5), &g), Error);  // the fc layers fix the patch size
  EXPECT_THROW(Net3d({.backbone = "unet3d", .vae = true, .vae_input = {16, 16, 16}}), Error);
  EXPECT_THROW(SegResNet({.vae = true, .vae_input = {12, 16, 16}}), Error);  // not a multiple of 2·8
}
