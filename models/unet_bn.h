// The U-Net with batch normalisation of paper 2 (Murase et al., supplement Table 3): per level two conv3×3 + BN + ReLU,
// encoder widths w-2w-4w-8w-8w with four 2×2 max-pools, bilinear ×2 upsampling with the skip concatenated first
// ([skip, up]), decoder widths 4w-2w-w-w, a 1×1 score conv to K logits. For w = 64, 1 input channel and 4 classes:
// 13,394,372 parameters; the positional encoding adds 2·64·9 = 1,152.
// Key decisions:
// - Positional encoding (PE) is paper 2's: two channels λ·i/(W−1), λ·j/(H−1) in [0, λ] at the input conv only,
//   through the fused CoordConv op (the channels are never materialised; kernels/coordconv.h). Channel order is
//   [Y, X] where the paper writes [x, y]: the same model up to a permutation of the first conv's extra weights.
// - Every 3×3 conv uses `padding_mode` (zeros or reflect); the PE channels are padded the same way as the image
//   (zero coordinates outside under zero padding, mirrored coordinates under reflection), which is what paper 2's
//   padding experiment (Fig. 4) compares.
// - Table 3 fixes widths only. The details it leaves open follow the PyTorch U-Net whose widths it lists (conv with
//   bias, then BN, then ReLU; bilinear upsampling with align_corners = true) and PyTorch's default initialisation,
//   since the paper trained with PyTorch's layers. Layer names are Table 3's (conv1_1 … conv9_2, score).
#pragma once
#include <array>
#include <memory>
#include <string>

#include "engine/module.h"
#include "models/layers.h"

namespace seg {

class UNetBN : public Module {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 4;
    int64_t base_width = 64;              // w: encoder w, 2w, 4w, 8w, 8w; decoder 4w, 2w, w, w
    double pe_lambda = 0;                 // positional encoding range [0, λ] at the input; 0 = none
    std::string padding_mode = "zeros";   // every 3×3 conv (and the PE channels): "zeros" | "reflect"
    bool align_corners = true;            // bilinear ×2 upsampling
    Init init = Init::PyTorchDefault;
    uint64_t seed = 0;                    // initial weights
  };
  explicit UNetBN(const Config& cfg);
  // (N, in, H, W) → (N, classes, H, W) logits; H and W multiples of 16 (four 2×2 pools; reflection padding also
  // needs the deepest maps, H/16 and W/16, to be at least 2).
  Tensor forward(const Tensor& x) const;
  const Config& config() const { return cfg_; }

 private:
  Config cfg_;
  std::array<std::shared_ptr<ConvNormAct>, 10> enc_;  // conv1_1 … conv5_2
  std::array<std::shared_ptr<ConvNormAct>, 8> dec_;   // conv6_1 … conv9_2
  std::shared_ptr<Conv2d> score_;
};

}  // namespace seg
