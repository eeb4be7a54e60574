// The four-layer CNN of paper 2 (Murase et al., supplement Table 4): three conv3×3 (64 channels) + BN + ReLU at full
// resolution, then a 1×1 score conv to K logits. For 1 input channel and 4 classes: 75,140 parameters; the positional
// encoding adds 2·64·9 = 1,152 (76,292).
// Key decisions: the network is deliberately tiny (receptive field 7×7, no pooling), so without positional encoding
// it can only classify local texture; paper 2 uses it to show what PE adds when a model cannot infer position.
// PE, padding modes and initialisation as in UNetBN (models/unet_bn.h). Layer names are Table 4's (conv1 … score).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/module.h"
#include "models/layers.h"

namespace seg {

class SmallCNN : public Module {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 4;
    int64_t width = 64;                   // channels of every 3×3 conv
    int64_t depth = 3;                    // 3×3 conv + BN + ReLU layers before the score conv (Table 4: 3)
    double pe_lambda = 0;                 // positional encoding range [0, λ] at the input; 0 = none
    std::string padding_mode = "zeros";   // every 3×3 conv (and the PE channels): "zeros" | "reflect"
    Init init = Init::PyTorchDefault;
    uint64_t seed = 0;                    // initial weights
  };
  explicit SmallCNN(const Config& cfg);
  Tensor forward(const Tensor& x) const;  // (N, in, H, W) → (N, classes, H, W) logits
  const Config& config() const { return cfg_; }

 private:
  Config cfg_;
  std::vector<std::shared_ptr<ConvNormAct>> convs_;
  std::shared_ptr<Conv2d> score_;
};

}  // namespace seg
