// The fully residual U-Net of papers 1 and 5 (Kervadec et al.'s reference code, see docs/reference_code.md):
// widths 32-64-128-256, bridge 512, residual blocks of five 3×3 convs, LeakyReLU(0.2) in the encoder and bridge,
// ReLU in the decoder, transposed-conv upsampling, additive skips ((up + skip)/2), a 3×3 head to K logits.
// CoordConv placement (paper 1) is an option: none | 1st (input conv) | enc (every encoder and bridge conv) |
// all (every conv and transposed conv, head included).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/module.h"
#include "engine/rng.h"
#include "models/layers.h"

namespace seg {

enum class CoordPlacement { None, First, Encoder, All };
CoordPlacement parse_coord_placement(const std::string& s);   // "none" | "1st" | "enc" | "all"
const char* coord_placement_name(CoordPlacement p);

// c1 = cba(in,out); c2 = cba(out,out) → cba(out,out) → cb(out,out); return cba(out,out)(c1 + c2), where cba is
// conv3×3 (He-normal init, bias) + BatchNorm + the block's activation and cb has no activation.
class ResidualBlock : public Module {
 public:
  ResidualBlock(int64_t in, int64_t out, const ActSpec& act, bool coord_first, bool coord_rest, Generator& gen);
  Tensor forward(const Tensor& x) const;

 private:
  std::shared_ptr<ConvNormAct> c1_, c2a_, c2b_, c2c_, out_;
};

class ResidualUNet : public Module {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 2;
    int64_t base_width = 32;  // encoder widths w, 2w, 4w, 8w; bridge 16w (19.65 M parameters at w = 32, 2 classes)
    CoordPlacement coord = CoordPlacement::None;
    uint64_t seed = 0;        // initial weights
  };
  explicit ResidualUNet(const Config& cfg);
  Tensor forward(const Tensor& x) const;  // (N, in, H, W) → (N, classes, H, W) logits; H, W multiples of 16
  const Config& config() const { return cfg_; }

 private:
  Config cfg_;
  std::vector<std::shared_ptr<ResidualBlock>> down_, up_;
  std::shared_ptr<ResidualBlock> bridge_;
  std::vector<std::shared_ptr<ConvTranspose2d>> deconv_;
  std::vector<std::shared_ptr<BatchNorm>> deconv_bn_;
  std::shared_ptr<Conv2d> head_;
};

}  // namespace seg
