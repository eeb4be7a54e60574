// The edge-gated stream of paper 3 (EG-CNN, Hatamizadeh, Terzopoulos & Myronenko 2020) and the networks it makes with
// a 3-D backbone (models/backbone3d.h: UNet3d, VNet, SegResNet): logits plus an edge output.
//
// Design (the paper has no public code; its text describes the sequence, its equations were lost from our copy and
// are restated here as the text defines them). The backbone has L resolutions, encoder maps m_0 … m_{L−1} (m_l at
// 1/2^l) and a first up-sampled decoder map d at the resolution of m_{L−2}:
//   e ← d
//   for l = L−3 down to 0:                 (one edge-gated layer per resolution above d's, L − 2 in all)
//     e ← up×2(R_l(e))                      R_l: residual block (conv3 → GN → ReLU → conv3 → GN, plus the input
//                                            (1×1×1 projection when the width changes), ReLU); up×2: trilinear,
//                                            align_corners = False (the paper's "bilinear" in 3-D)
//     e ← G_l(e, m_l)                       the edge-gated layer:
//         α_l = σ(W_α ∗ ReLU(W_e ∗ e + W_m ∗ m_l))           (1)  W_e, W_m: 1×1×1 convs to C_e channels,
//                                                                 W_α: 1×1×1 conv to 1 channel (the attention map)
//         G_l(e, m_l) = w_l ∗ (e ⊙ α_l + e)                 (2)  w_l: a 1×1×1 conv (the "residual layer with kernel
//                                                                 w_l": the gated map is added to its input)
//   edge logits = W_out ∗ e                 (1×1×1 conv to edge_channels: 1 boundary map, or one per foreground class)
//   logits = head(cat(decoder_last, e))      the edge features are concatenated with the main stream's last map
//                                            before the backbone's head (its final conv), which is widened by C_e.
// The text's two accounts differ on the count of gated layers ("as many as resolutions" vs. the sequence above,
// which starts from the first up-sampled decoder map, residual block then upsampling, then gates with "the input from
// its previous resolution in the encoder"); we follow the sequence. The losses (paper eqs. 3–9) are in
// losses/egcnn_losses.h.
// Key decisions: the stream's width C_e is one number for all resolutions (GSCNN's stream narrows; the paper does not
// say); the attention map has one channel, shared by the C_e edge features (as GSCNN's gate); the stream draws its
// weights from its own generator (seed + 1), so a backbone's weights are the same with and without it.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "models/backbone3d.h"
#include "models/layers.h"

namespace seg {

// R_l above.
class EdgeResBlock : public Module {
 public:
  EdgeResBlock(int64_t in, int64_t out, int64_t groups, Generator& gen);
  Tensor forward(const Tensor& x) const;

 private:
  std::shared_ptr<ConvNormAct> a_, b_;
  std::shared_ptr<Conv3d> proj_;  // only when in != out
};

// G_l above: eqs. (1) and (2).
class EdgeGatedLayer : public Module {
 public:
  EdgeGatedLayer(int64_t edge_channels, int64_t main_channels, Generator& gen);
  Tensor forward(const Tensor& e, const Tensor& m) const;
  Tensor attention(const Tensor& e, const Tensor& m) const;  // α_l, (N, 1, D, H, W)

 private:
  std::shared_ptr<Conv3d> w_e_, w_m_, w_alpha_, w_out_;
};

class EdgeStream : public Module {
 public:
  struct Config {
    std::vector<int64_t> encoder_channels;  // of the backbone's encoder maps, fine → coarse (at least 3)
    int64_t decoder_first_channels = 0;
    int64_t width = 16;                     // C_e
    int64_t out_channels = 1;               // edge maps predicted
    int64_t norm_groups = 8;
    uint64_t seed = 1;
  };
  explicit EdgeStream(const Config& cfg);
  struct Output {
    Tensor features;  // e at full resolution, (N, C_e, D, H, W): fused into the head
    Tensor logits;    // (N, out_channels, D, H, W)
  };
  Output forward(const BackboneFeatures& f) const;
  const Config& config() const { return cfg_; }

 private:
  Config cfg_;
  std::vector<std::shared_ptr<EdgeResBlock>> res_;
  std::vector<std::shared_ptr<EdgeGatedLayer>> gates_;
  std::shared_ptr<Conv3d> out_;
};

// A backbone with or without the edge stream, built by name.
struct Net3dSpec {
  std::string backbone = "segresnet";  // unet3d | vnet | segresnet
  int64_t in_channels = 1;
  int64_t classes = 2;
  int64_t width = 16;        // unet3d: widths w, 2w, 4w, 8w; vnet: base_width; segresnet: init_filters
  int levels = 0;            // resolutions (0: the backbone's default: 4, V-Net 5)
  int64_t vnet_kernel = 5;
  bool edge = false;         // add the EG-CNN stream
  int64_t edge_width = 16;   // C_e
  bool edge_per_class = false;  // edge maps: one per foreground class (classes − 1) instead of one boundary map
  int64_t norm_groups = 8;
  uint64_t seed = 0;
  bool vae = false;                        // SegResNet only: Myronenko's auto-encoder branch (models/segresnet.h)
  std::array<int64_t, 3> vae_input{0, 0, 0};  // its training patch (D, H, W)
  std::string describe() const;  // one line
};
const std::vector<std::string>& backbone_names();

class Net3d : public Module {
 public:
  explicit Net3d(const Net3dSpec& spec);
  struct Output {
    Tensor logits;       // (N, classes, D, H, W)
    Tensor edge_logits;  // (N, edge channels, D, H, W); undefined without the edge stream
    Tensor vae_loss;     // 0-d; only in training with the VAE branch and a generator
  };
  // gen: the VAE's sampling noise (training with the VAE branch); ignored otherwise.
  Output forward(const Tensor& x, Generator* gen = nullptr) const;
  const Net3dSpec& spec() const { return spec_; }
  const Backbone3d& backbone() const { return *backbone_; }
  int64_t divisor() const { return backbone_->divisor(); }
  int64_t edge_channels() const;  // 0 without the stream

 private:
  Net3dSpec spec_;
  std::shared_ptr<Backbone3d> backbone_;
  std::shared_ptr<EdgeStream> stream_;
};

}  // namespace seg
