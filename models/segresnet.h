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
// Key decisions: no dropout (MONAI's default); PyTorch's default initialisation (what MONAI's layers get); the
// variational auto-encoder branch of Myronenko's paper is not built (paper 3 does not say it used it).
#pragma once
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
  };
  explicit SegResNet(const Config& cfg);

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
};

}  // namespace seg
