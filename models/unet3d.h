// 3-D U-Net with GroupNorm (paper 3's "U-Net" backbone: Çiçek et al.'s 3-D U-Net with the norm changed to GroupNorm,
// as the paper did for its batch of 8 split over 8 GPUs).
// Structure (L = widths.size() resolutions):
//   encoder level l: [conv3×3×3 (no bias) → GN → ReLU] × 2 to widths[l]; 2×2×2 max-pool between levels;
//   decoder level l = L−2 … 0: ConvTranspose 2×2×2 stride 2 (bias) widths[l+1] → widths[l], concatenated with the
//   encoder map of level l, then [conv3×3×3 → GN → ReLU] × 2 (2·widths[l] → widths[l] → widths[l]);
//   head: 1×1×1 conv (bias) to the class logits.
// Key decisions: convolutions followed by GroupNorm carry no bias (the norm's shift makes it redundant); GN uses
// min(norm_groups, C) groups (models/layers.h group_count); PyTorch's default initialisation.
// Counts (1 input, 2 classes): widths 16-32-64-128 → 1,401,282 parameters, the PyTorch benchmark definition of the
// issue (profiling/bench_train_torch3d.py); 4 inputs, 4 classes → 1,402,612 (tests/models/test_models3d.cpp).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/backbone3d.h"
#include "models/layers.h"

namespace seg {

class UNet3d : public Backbone3d {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 2;
    std::vector<int64_t> widths{16, 32, 64, 128};  // per resolution, full → bottleneck (at least 2)
    int64_t norm_groups = 8;                       // GroupNorm groups (fewer when a width is not divisible)
    int64_t head_extra_in = 0;                     // channels concatenated before the head (the edge stream's)
    uint64_t seed = 0;                             // initial weights
  };
  explicit UNet3d(const Config& cfg);

  BackboneFeatures features(const Tensor& x) const override;
  Tensor head(const Tensor& decoder_last) const override;
  std::vector<int64_t> encoder_channels() const override { return cfg_.widths; }
  int64_t decoder_first_channels() const override { return cfg_.widths[cfg_.widths.size() - 2]; }
  int64_t decoder_last_channels() const override { return cfg_.widths[0]; }
  int64_t divisor() const override { return int64_t{1} << (cfg_.widths.size() - 1); }
  std::string name() const override { return "unet3d"; }
  std::string describe() const override;
  const Config& config() const { return cfg_; }

 private:
  Config cfg_;
  std::vector<std::shared_ptr<ConvNormAct>> enc_a_, enc_b_, dec_a_, dec_b_;  // dec_*[i] is decoder level L−2−i
  std::vector<std::shared_ptr<ConvTranspose3d>> up_;
  std::shared_ptr<Conv3d> head_;
};

}  // namespace seg
