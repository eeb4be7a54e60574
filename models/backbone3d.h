// The interface the 3-D encoder–decoder backbones of paper 3 (UNet3d, VNet, SegResNet) share, so the edge-gated
// stream (models/egcnn.h) can be plugged into any of them, as the paper's "plug-and-play module" is.
// Key decisions:
//  * a backbone's forward is split in two: features() runs the encoder and decoder and returns the feature maps the
//    edge stream reads (every encoder resolution, the first up-sampled decoder map) together with the decoder's last
//    full-resolution map; head() turns that map (with the edge stream's features concatenated, when present) into
//    logits. forward() = head(features().decoder_last);
//  * the head's input width grows by Config::head_extra_in when the edge stream is fused in, so the parameter count of
//    a "with EG-CNN" model is exactly backbone + stream + the wider head (counted in the tests).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/module.h"

namespace seg {

struct BackboneFeatures {
  std::vector<Tensor> encoder;  // one map per resolution, fine → coarse: encoder[l] is at 1/2^l of the input
  Tensor decoder_first;         // the first up-sampled decoder map, at the resolution of encoder[L − 2]
  Tensor decoder_last;          // the decoder's full-resolution output, the head's input
};

class Backbone3d : public Module {
 public:
  virtual BackboneFeatures features(const Tensor& x) const = 0;
  // (N, head_in_channels() [+ head_extra_in], D, H, W) → (N, classes, D, H, W) logits
  virtual Tensor head(const Tensor& decoder_last) const = 0;
  Tensor forward(const Tensor& x) const { return head(features(x).decoder_last); }

  virtual std::vector<int64_t> encoder_channels() const = 0;  // channels of features().encoder, fine → coarse
  virtual int64_t decoder_first_channels() const = 0;
  virtual int64_t decoder_last_channels() const = 0;          // without the edge stream's extra channels
  virtual int64_t divisor() const = 0;                        // input sizes must be multiples of it
  virtual std::string name() const = 0;                       // "unet3d" | "vnet" | "segresnet"
  virtual std::string describe() const = 0;                   // one line: the configuration
};

}  // namespace seg
