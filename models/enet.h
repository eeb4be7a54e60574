// ENet (Paszke et al. 2016) as the shape-descriptor authors train it on ACDC (paper 5; reference-notes.md):
// initial block = 3×3 stride-2 conv with (16 − in) channels concatenated with a 2×2 max-pool of the input; stage 1 =
// a downsampling bottleneck to 64 channels and four regular ones; stages 2–3 = a downsampling bottleneck to 128, then
// regular, dilated 2/4/8/16 and asymmetric 5×1 → 1×5 bottlenecks (the last one projects to 64 with a 3×3 main
// branch); decoder = max-unpool with the encoder's indices, concatenation with the encoder feature, upsampling
// bottlenecks; final nearest ×2 upsampling, two 3×3 conv+BN+PReLU and a 1×1 conv to K logits. Projection ratio 4,
// PReLU (one shared slope each) and BatchNorm everywhere.
// Key decisions:
// - The parameter lists line up one to one with the authors' PyTorch module (same shapes, same registration order),
//   so counts match exactly: 460,845 for 2 classes and 463,475 for 4 (+1,315 per class). That count includes what
//   their module owns but never uses: two heads (3×3 convs at 1/8 and 1/2 resolution) and one PReLU in each
//   upsampling bottleneck. Config::unused_heads keeps them (default, for the count and checkpoints) or drops them.
// - Initialisation is the authors' (their random_weights_init): conv weights Xavier-normal, conv biases PyTorch's
//   default uniform, BatchNorm weights N(1, 0.02) and biases 0, PReLU slopes 0.25; drawn from Config::seed.
// - Dropout rates per bottleneck are the authors' (0.01 in stage 1 and in the downsampling, dilated and upsampling
//   bottlenecks; 0.1 in the other bottlenecks of stages 2–3 and the decoder). Their code drops elements
//   (nn.Dropout); the ENet paper drops channels (spatial dropout), which is the default here
//   (Config::spatial_dropout). The masks come from a generator seeded by Config::seed, so runs are reproducible.
#pragma once
#include <memory>
#include <vector>

#include "engine/module.h"
#include "engine/rng.h"
#include "kernels/pool.h"
#include "models/layers.h"

namespace seg {

enum class EnetBlock {
  Downsample,  // main: 2×2 max-pool (indices kept) zero-padded to `out` channels; branch starts with a 2×2 s2 conv
  Regular,     // branch 1×1 → 3×3 → 1×1; main identity, or 1×1 conv+BN+PReLU when in > out
  Dilated,     // branch 1×1 → 3×3 dilated → 1×1; main identity
  Asymmetric,  // branch 1×1 → 5×1, 1×5 → 1×1; main as Regular
  Last,        // Dilated with a 3×3 conv (bias, no BN) on the main branch, in → out
  Upsample,    // branch only: 3×3 → 3×3 → 1×1 (the decoder adds the unpooled main branch itself)
};

// One ENet bottleneck: main + dropout(branch), then PReLU (Upsample returns the branch alone).
class EnetBottleneck : public Module {
 public:
  EnetBottleneck(EnetBlock kind, int64_t in, int64_t out, int64_t dilation, double dropout_p, bool spatial_dropout,
                 int64_t projection, bool keep_unused, Generator& init, std::shared_ptr<Generator> dropout_gen);
  Tensor forward(const Tensor& x) const;            // every kind but Downsample
  PoolResult forward_down(const Tensor& x) const;   // Downsample: output and the max-pool indices
  EnetBlock kind() const { return kind_; }

 private:
  Tensor branch(const Tensor& x) const;

  EnetBlock kind_;
  int64_t in_, out_;
  double p_;
  bool spatial_;
  std::shared_ptr<Generator> drop_gen_;
  std::shared_ptr<ConvNormAct> first_, mid_, last_;     // mid_ for every kind but Asymmetric
  std::shared_ptr<Conv2d> asym_a_, asym_b_;            // Asymmetric: 5×1 then 1×5 (bias), then BN + PReLU
  std::shared_ptr<BatchNorm> asym_bn_;
  std::shared_ptr<Activation> asym_act_, act_;
  std::shared_ptr<ConvNormAct> main_cba_;              // Regular / Asymmetric with in > out
  std::shared_ptr<Conv2d> main_conv_;                  // Last
};

class ENet : public Module {
 public:
  struct Config {
    int64_t in_channels = 1;
    int64_t classes = 2;
    int64_t base_width = 16;       // the initial block's width; stages 1 and 2–3 have 4× and 8× this
    int64_t projection = 4;        // bottleneck inner width = in / projection
    bool spatial_dropout = true;   // channel dropout (ENet paper); false: elementwise (the authors' nn.Dropout)
    bool unused_heads = true;      // keep the authors' unused heads and PReLUs (460,845 parameters at 2 classes)
    uint64_t seed = 0;             // initial weights and dropout masks
  };
  explicit ENet(const Config& cfg);
  Tensor forward(const Tensor& x) const;  // (N, in, H, W) → (N, classes, H, W) logits; H, W multiples of 8
  const Config& config() const { return cfg_; }

 private:
  Config cfg_;
  std::shared_ptr<Generator> drop_gen_;
  std::shared_ptr<Conv2d> initial_;
  std::vector<std::shared_ptr<EnetBottleneck>> stage1_, stage23_;
  std::shared_ptr<EnetBottleneck> up1_, up1_a_, up1_b_, up2_, up2_a_;
  std::shared_ptr<Activation> up1_act_, up2_act_;
  std::shared_ptr<ConvNormAct> head_a_, head_b_;
  std::shared_ptr<Conv2d> out_025_, out_05_, final_;
};

}  // namespace seg
