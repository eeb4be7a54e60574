// SegResNet (Myronenko 2018, "3D MRI brain tumor segmentation using autoencoder regularization"; paper 3's "Seg-Net"
// backbone), defined as MONAI's SegResNet so that its parameter counts can be checked against MONAI's.
// Structure (f = init_filters, L = blocks_down.size() resolutions, f_l = f·2^l):
//   conv3×3×3 (in → f, no bias);
//   level l: [l > 0: conv3×3×3 stride 2 (f_{l−1} → f_l, no bias)] then blocks_down[l] residual blocks;
//   residual block (pre-activation): x + conv3(ReLU(GN(conv3(ReLU(GN(x)))))), convs without bias, GN(8);
//   up step to level l = L−2 … 0: conv1×1×1 (f_{l+1} → f_l, no bias), trilinear ×2 (align_corners = False), plus the
//   encoder's level-l output (additive skip), then blocks_up[j] residual blocks;
//   head: GN → ReLU → conv1×1×1 (f → classes, bias).
// Counts (tests/models/test_models3d.cpp): 4 inputs, 3 classes, f = 16 → 4,702,227 parameters; f = 8 → 1,176,843 —
// MONAI's SegResNet(in_channels=4, out_channels=3, init_filters=16 / 8) with its defaults (blocks 1-2-2-4 down,
// 1-1-1 up, GN 8 groups, non-trainable upsampling).
// Variational auto-encoder branch (Myronenko's regulariser, MONAI's SegResNetVAE; off unless Config::vae): from the
// bottleneck, GN → ReLU → conv3 stride 2 (→ 16, bias) → GN → ReLU, flattened; fully connected layers to the latent
// mean (and σ when estimated, else σ = 0.3), a sample z = μ + σ·ε, a fully connected layer back, ReLU, conv1×1×1 (16 →
// bottleneck width) + trilinear ×2 + GN + ReLU, then the decoder's own up steps (shared weights, no skips) and GN →
// ReLU → conv1×1×1 to the input channels; loss = mean(μ²) (σ fixed; with σ estimated: ½·mean(μ² + σ² − log σ² − 1))
// + MSE(input, reconstruction). The fully connected layers are convolutions whose kernel covers the whole flattened
// map (fc1, fc2) and a transposed one with a per-element bias (fc3): the same weights and counts as nn.Linear, which
// fixes the training patch size (Config::vae_input). MONAI's SegResNetVAE(input_image_size=(128,128,128),
// in_channels=4, out_channels=3, init_filters=8) counts 7,506,031 by the same rules (tests/models/test_models3d.cpp).
// Key decisions: no dropout (MONAI's default); PyTorch's default initialisation (what MONAI's layers get).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "models/backbone3d.h"
#include "models/layers.h"

namespace seg {

class SegResNet : public Backbone3d {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 2;
    int64_t init_filters = 8;                   // MONAI's default; paper-scale BraTS models use 16 or 32
    std::vector<int> blocks_down{1, 2, 2, 4};   // residual blocks per level, full resolution first
    std::vector<int> blocks_up{1, 1, 1};        // per up step, coarsest first (L − 1 entries)
    int64_t norm_groups = 8;
    int64_t head_extra_in = 0;                  // channels concatenated before the head (the edge stream's)
    uint64_t seed = 0;
    bool vae = false;                           // build the auto-encoder branch
    std::array<int64_t, 3> vae_input{0, 0, 0};  // training patch (D, H, W): multiples of 2^L
    int64_t vae_nz = 256;                       // latent size
    bool vae_estimate_std = false;              // else σ = vae_default_std
    double vae_default_std = 0.3;
  };
  explicit SegResNet(const Config& cfg);
  // The VAE branch's loss for input x whose features f this network computed (training only; needs Config::vae).
  Tensor vae_loss(const Tensor& x, const BackboneFeatures& f, Generator& gen) const;

  BackboneFeatures features(const Tensor& x) const override;
  Tensor head(const Tensor& decoder_last) const override;
  std::vector<int64_t> encoder_channels() const override;
  int64_t decoder_first_channels() const override { return cfg_.init_filters << (cfg_.blocks_down.size() - 2); }
  int64_t decoder_last_channels() const override { return cfg_.init_filters; }
  int64_t divisor() const override { return int64_t{1} << (cfg_.blocks_down.size() - 1); }
  std::string name() const override { return "segresnet"; }
  std::string describe() const override;
  const Config& config() const { return cfg_; }

  // MONAI's ResBlock: pre-activation GN → ReLU → conv3 twice, identity skip.
  class ResBlock : public Module {
   public:
    ResBlock(int64_t channels, int64_t groups, Generator& gen);
    Tensor forward(const Tensor& x) const;

   private:
    std::shared_ptr<GroupNorm> gn1_, gn2_;
    std::shared_ptr<Conv3d> conv1_, conv2_;
  };

 private:
  Config cfg_;
  std::shared_ptr<Conv3d> conv_init_;
  std::vector<std::shared_ptr<Conv3d>> down_conv_;  // down_conv_[l − 1] enters level l
  std::vector<std::vector<std::shared_ptr<ResBlock>>> down_blocks_, up_blocks_;
  std::vector<std::shared_ptr<Conv3d>> up_conv_;    // 1×1×1 before each upsampling, coarsest first
  std::shared_ptr<GroupNorm> head_gn_;
  std::shared_ptr<Conv3d> head_conv_;
  // VAE branch
  std::shared_ptr<GroupNorm> vae_gn_in_, vae_gn_mid_, vae_gn_up_, vae_gn_final_;
  std::shared_ptr<Conv3d> vae_down_, vae_fc1_, vae_fc2_, vae_up_conv_, vae_final_;
  std::shared_ptr<ConvTranspose3d> vae_fc3_;
  Tensor vae_fc3_bias_;  // (1, 16, d, h, w): nn.Linear's per-output bias
  // The up steps from the bottleneck h: with the encoder's maps added (skips), or without (the VAE); `first` receives
  // the first up step's output when given.
  Tensor decode_up(Tensor h, const std::vector<Tensor>* skips, Tensor* first) const;
};

}  // namespace seg
