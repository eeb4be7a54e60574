// V-Net with GroupNorm (paper 3's "V-Net" backbone): Milletari et al.'s network as their Caffe prototxt defines it,
// with GroupNorm added after every convolution, as paper 3 did to train with small batches.
// Structure (w = base_width, L = down_convs.size() resolutions, w_l = w·2^l):
//   input stage: conv k³ (in → w) → GN, plus the input tiled to w channels (channel c = input channel c mod in),
//     then PReLU;
//   down stage l ≥ 1: conv 2³ stride 2 (w_{l−1} → w_l) → GN → PReLU (the "down-pooling"); then down_convs[l] convs
//     k³ → GN, PReLU between them; the stage's input is added to the last one's output, then PReLU;
//   up stage (coarsest first, to level l = L−2 … 0): ConvTranspose 2³ stride 2 (→ w_l) → GN → PReLU, concatenated
//     with the encoder's level-l output (→ 2·w_l channels), then up_convs[j] convs k³ (2·w_l → 2·w_l) → GN as
//     above, the concatenation added residually, PReLU;
//   head: conv k³ (2·w → classes) → PReLU → conv 1×1×1 (classes → classes).
// Milletari's prototxt: k = 5, w = 16, stages of 1, 1, 2, 3, 3 convs down and 3, 2, 1, 1 up; every convolution
// has a bias; PReLU slopes per channel (Caffe's default, initial 0.25). Key decisions: the biases are kept even where
// GroupNorm follows (so the layers are the prototxt's with a norm inserted); no GN on the head (its width is the class
// count, which need not divide into groups); PyTorch's default initialisation instead of Caffe's MSRA filler.
// Counts: tests/models/test_models3d.cpp (1 input, 2 classes: 61,989,018 parameters; the 256-channel bottom stage and the first up stage hold 4/5 of them).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/backbone3d.h"
#include "models/layers.h"

namespace seg {

class VNet : public Backbone3d {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 2;
    int64_t base_width = 16;                   // channels at full resolution, doubling per level
    std::vector<int> down_convs{1, 1, 2, 3, 3};  // convs per down stage, full resolution first (L entries)
    std::vector<int> up_convs{3, 2, 1, 1};       // convs per up stage, coarsest first (L − 1 entries)
    int64_t kernel = 5;                        // the stages' cubic kernel (odd)
    int64_t norm_groups = 8;
    int64_t head_extra_in = 0;                 // channels concatenated before the head (the edge stream's)
    uint64_t seed = 0;
  };
  explicit VNet(const Config& cfg);

  BackboneFeatures features(const Tensor& x) const override;
  Tensor head(const Tensor& decoder_last) const override;
  std::vector<int64_t> encoder_channels() const override;
  int64_t decoder_first_channels() const override;
  int64_t decoder_last_channels() const override { return 2 * cfg_.base_width; }
  int64_t divisor() const override { return int64_t{1} << (cfg_.down_convs.size() - 1); }
  std::string name() const override { return "vnet"; }
  std::string describe() const override;
  const Config& config() const { return cfg_; }

  // A residual stage: convs (PReLU between them), the stage input added, PReLU.
  class Stage : public Module {
   public:
    Stage(int64_t in, int64_t width, int convs, const VNet::Config& cfg, Generator& gen);
    Tensor forward(const Tensor& x, const Tensor& residual) const;

   private:
    std::vector<std::shared_ptr<ConvNormAct>> convs_;
    std::shared_ptr<Activation> out_act_;
  };

 private:
  Config cfg_;
  std::vector<std::shared_ptr<ConvNormAct>> down_;       // down_[l − 1] enters level l
  std::vector<std::shared_ptr<ConvTranspose3d>> up_;     // up_[j], up_gn_[j], up_act_[j]: up stage j's upsampling
  std::vector<std::shared_ptr<GroupNorm>> up_gn_;
  std::vector<std::shared_ptr<Activation>> up_act_;
  std::vector<std::shared_ptr<Stage>> enc_, dec_;
  std::shared_ptr<ConvNormAct> head_a_;
  std::shared_ptr<Conv3d> head_b_;
};

}  // namespace seg
