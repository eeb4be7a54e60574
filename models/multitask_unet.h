// Paper 4's multi-task U-Net and its baselines, one configurable model (variants of Table 1/2):
//   M        "1Enc1Dec M"        one encoder, one decoder, mask head                     (U-Net)
//   2dec-mc  "1Enc2Dec MC"       one encoder, two decoders: mask head | contour head     (DCAN-style)
//   2dec-md  "1Enc2Dec MD"       one encoder, two decoders: mask head | distance head    (Tan et al.-style)
//   conv-mc  "1Enc1Dec+Conv MC"  one encoder, one decoder, parallel mask + contour heads (the paper's proposal)
//   conv-md  "1Enc1Dec+Conv MD"  one encoder, one decoder, parallel mask + distance heads
// Body: five levels of 2 × (conv3×3 + ReLU) with widths w, 2w, 4w, 8w, 16w (w = 32); 2×2 max-pools between the first
// four levels and a 4×4 max-pool before the fifth; the decoder upsamples by nearest neighbour (×4, then ×2 three
// times), concatenates [upsampled, skip] and applies 2 × (conv3×3 + ReLU) back to the skip's width. Heads are 3×3
// convs on the last w-channel feature: mask 2 channels (log-softmax), contour 2 (log-softmax), distance 1 (sigmoid).
// Key decision — the parameter counts of the paper's Table 2 are reproduced exactly, which fixes the design:
//   every conv is bias-free and there is no normalisation layer, 3×3 heads (not the 1×1 heads with bias of the
//   authors' code). With w = 32 and 3 input channels: encoder 4,710,240, one decoder 3,133,440, heads 9·32·2 = 576
//   (mask, contour) and 9·32 = 288 (distance):
//     M 7,844,256 | 2dec-mc 10,978,272 | 2dec-md 10,977,984 | conv-mc 7,844,832 | conv-md 7,844,544.
//   The two decoders of the 2dec variants are separate (the authors' code loops twice over one decoder, i.e. shares
//   its weights; Table 2's 10.98 M counts two). Config::bias = true adds a bias to every conv (not the paper's).
// Initialisation: He-normal on fan-out (kaiming_normal_(mode="fan_out")), drawn from the seed. The authors' modules
//   kept PyTorch's default init, which is harmless with their biases but, bias-free and without normalisation, shrinks
//   the activations' variance about 6× per conv (1/3 from the uniform bound, 1/2 from ReLU): after 18 convs the
//   outputs are ~1e-7 of the input and the first epochs barely move (measured: a 12-step test that He-normal passes
//   at 0.5× its first loss stays at 2·log 2). Config::init = Init::PyTorchDefault restores it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/module.h"
#include "models/layers.h"

namespace seg {

enum class MultitaskVariant { M, TwoDecMC, TwoDecMD, ConvMC, ConvMD };
enum class AuxTask { None, Contour, Distance };

// "m" | "2dec-mc" | "2dec-md" | "conv-mc" | "conv-md" (case-insensitive; '_' may replace '-'); throws otherwise.
MultitaskVariant parse_multitask_variant(const std::string& s);
const char* multitask_variant_key(MultitaskVariant v);    // "conv-md"
const char* multitask_variant_paper(MultitaskVariant v);  // "1Enc1Dec+Conv MD", the paper's row name
std::vector<MultitaskVariant> all_multitask_variants();   // in Table 1's row order
AuxTask aux_task(MultitaskVariant v);
bool has_two_decoders(MultitaskVariant v);

// 2 × (conv3×3 + ReLU), no normalisation.
class DoubleConv : public Module {
 public:
  DoubleConv(int64_t in, int64_t out, const ConvSpec& conv, Generator& gen);
  Tensor forward(const Tensor& x) const;

 private:
  std::shared_ptr<ConvNormAct> c1_, c2_;
};

// The expanding path: per level (deepest first) nearest upsampling, [upsampled, skip] concatenation, DoubleConv.
class MultitaskDecoder : public Module {
 public:
  MultitaskDecoder(const std::vector<int64_t>& widths, const ConvSpec& conv, Generator& gen);
  // skips: the encoder features of every level (shallowest first; the last is the bottom); up: the scale factor
  // from level i+1 to level i.
  Tensor forward(const std::vector<Tensor>& skips, const std::vector<int64_t>& up) const;

 private:
  std::vector<std::shared_ptr<DoubleConv>> blocks_;  // blocks_[i] makes level i's width
};

class MultitaskUNet : public Module {
 public:
  struct Config {
    MultitaskVariant variant = MultitaskVariant::ConvMD;
    int64_t in_channels = 3;   // RGB
    int64_t base_width = 32;   // widths w, 2w, 4w, 8w, 16w
    int64_t bottom_pool = 4;   // the last max-pool's size (the three above it are 2×2)
    bool bias = false;         // the paper's counts need bias-free convs
    Init init = Init::HeNormalFanOut;  // see the note above
    uint64_t seed = 0;
  };
  struct Output {
    Tensor mask;      // (N, 2, H, W) log-probabilities
    Tensor contour;   // (N, 2, H, W) log-probabilities; undefined unless the variant has a contour head
    Tensor distance;  // (N, 1, H, W) in (0, 1) (sigmoid); undefined unless the variant has a distance head
  };

  explicit MultitaskUNet(const Config& cfg);
  // x (N, in_channels, H, W) with H and W multiples of 8·bottom_pool (32).
  Output forward(const Tensor& x) const;
  const Config& config() const { return cfg_; }
  int64_t input_multiple() const { return 8 * cfg_.bottom_pool; }

 private:
  Config cfg_;
  std::vector<std::shared_ptr<DoubleConv>> enc_;
  std::shared_ptr<MultitaskDecoder> dec_, dec2_;
  std::shared_ptr<Conv2d> mask_head_, contour_head_, distance_head_;
};

}  // namespace seg
