// The edge-gated stream and the 3-D networks built by name (see egcnn.h).
#include "models/egcnn.h"

#include <algorithm>
#include <sstream>

#include "kernels/elementwise.h"
#include "kernels/shape_ops.h"
#include "kernels/upsample.h"
#include "models/segresnet.h"
#include "models/unet3d.h"
#include "models/vnet.h"

namespace seg {

namespace {
ConvSpec conv1(bool bias = true) { return {.kernel = {1}, .bias = bias, .init = Init::PyTorchDefault}; }
}  // namespace

EdgeResBlock::EdgeResBlock(int64_t in, int64_t out, int64_t groups, Generator& gen) {
  const ConvSpec c3{.kernel = {3}, .bias = false, .init = Init::PyTorchDefault};
  const NormSpec gn{.kind = Norm::Group, .groups = group_count(out, groups)};
  a_ = register_module("a", std::make_shared<ConvNormAct>(3, in, out, c3, gn, ActSpec{.kind = Act::ReLU}, gen));
  b_ = register_module("b", std::make_shared<ConvNormAct>(3, out, out, c3, gn, ActSpec{.kind = Act::None}, gen));
  if (in != out) proj_ = register_module("proj", std::make_shared<Conv3d>(in, out, conv1(false), gen));
}

Tensor EdgeResBlock::forward(const Tensor& x) const {
  const Tensor h = b_->forward(a_->forward(x));
  return relu(add(h, proj_ ? proj_->forward(x) : x));
}

EdgeGatedLayer::EdgeGatedLayer(int64_t ce, int64_t cm, Generator& gen) {
  w_e_ = register_module("w_e", std::make_shared<Conv3d>(ce, ce, conv1(), gen));
  w_m_ = register_module("w_m", std::make_shared<Conv3d>(cm, ce, conv1(), gen));
  w_alpha_ = register_module("w_alpha", std::make_shared<Conv3d>(ce, 1, conv1(), gen));
  w_out_ = register_module("w_out", std::make_shared<Conv3d>(ce, ce, conv1(), gen));
}

Tensor EdgeGatedLayer::attention(const Tensor& e, const Tensor& m) const {
  return sigmoid(w_alpha_->forward(relu(add(w_e_->forward(e), w_m_->forward(m)))));
}

Tensor EdgeGatedLayer::forward(const Tensor& e, const Tensor& m) const {
  SEG_CHECK(e.dim() == 5 && m.dim() == 5 && e.size(0) == m.size(0) && e.size(2) == m.size(2) &&
                e.size(3) == m.size(3) && e.size(4) == m.size(4),
            "EdgeGatedLayer: edge and main maps must share batch and spatial size, got ", e.describe(), " and ",
            m.describe());
  // e ⊙ α + e = e ⊙ (1 + α), with the one-channel α copied to the C_e channels first: the engine's CPU broadcasting
  // path indexes element by element, and this product at full resolution took a fifth of a training step through it.
  const Tensor a = add_scalar(attention(e, m), 1.0);
  return w_out_->forward(mul(e, cat(std::vector<Tensor>(static_cast<size_t>(e.size(1)), a), 1)));
}

EdgeStream::EdgeStream(const Config& cfg) : cfg_(cfg) {
  const size_t L = cfg.encoder_channels.size();
  SEG_CHECK(L >= 3, "EdgeStream: the backbone needs at least 3 resolutions (the stream gates L − 2 of them), got ", L);
  SEG_CHECK(cfg.decoder_first_channels > 0 && cfg.width > 0 && cfg.out_channels > 0,
            "EdgeStream: decoder_first_channels, width and out_channels must be positive");
  Generator gen(cfg.seed);
  int64_t in = cfg.decoder_first_channels;
  for (size_t g = 0; g + 2 < L; ++g) {
    const size_t l = L - 3 - g;
    const std::string id = std::to_string(l);
    res_.push_back(register_module("res" + id, std::make_shared<EdgeResBlock>(in, cfg.width, cfg.norm_groups, gen)));
    gates_.push_back(register_module("gate" + id, std::make_shared<EdgeGatedLayer>(cfg.width, cfg.encoder_channels[l], gen)));
    in = cfg.width;
  }
  out_ = register_module("out", std::make_shared<Conv3d>(cfg.width, cfg.out_channels, conv1(), gen));
}

EdgeStream::Output EdgeStream::forward(const BackboneFeatures& f) const {
  const size_t L = f.encoder.size();
  SEG_CHECK(L == cfg_.encoder_channels.size(), "EdgeStream: expected ", cfg_.encoder_channels.size(),
            " encoder maps, got ", L);
  Tensor e = f.decoder_first;
  for (size_t g = 0; g < gates_.size(); ++g) {
    e = upsample_trilinear3d_scale(res_[g]->forward(e), {2.0}, false);
    e = gates_[g]->forward(e, f.encoder[L - 3 - g]);
  }
  return {e, out_->forward(e)};
}

const std::vector<std::string>& backbone_names() {
  static const std::vector<std::string> names{"unet3d", "vnet", "segresnet"};
  return names;
}

std::string Net3dSpec::describe() const {
  std::ostringstream s;
  s << backbone << " width " << width;
  if (levels) s << ", " << levels << " levels";
  if (vae) s << " + VAE";
  if (edge) s << " + EG-CNN (C_e " << edge_width << ", " << (edge_per_class ? "per-class" : "boundary") << " edges)";
  return s.str();
}

Net3d::Net3d(const Net3dSpec& s) : spec_(s) {
  SEG_CHECK(s.levels == 0 || s.levels >= (s.edge ? 3 : 2), "Net3d: levels must be 0 (default) or at least ",
            s.edge ? 3 : 2, ", got ", s.levels);
  SEG_CHECK(s.classes >= 2 || !s.edge_per_class, "Net3d: per-class edges need at least 2 classes");
  const int64_t extra = s.edge ? s.edge_width : 0;
  if (s.backbone == "unet3d") {
    UNet3d::Config c{.in_channels = s.in_channels, .classes = s.classes, .widths = {}, .norm_groups = s.norm_groups,
                     .head_extra_in = extra, .seed = s.seed};
    const int L = s.levels ? s.levels : 4;
    for (int l = 0; l < L; ++l) c.widths.push_back(s.width << l);
    backbone_ = register_module("backbone", std::make_shared<UNet3d>(c));
  } else if (s.backbone == "vnet") {
    VNet::Config c{.in_channels = s.in_channels, .classes = s.classes, .base_width = s.width, .down_convs = {},
                   .up_convs = {}, .kernel = s.vnet_kernel, .norm_groups = s.norm_groups, .head_extra_in = extra,
                   .seed = s.seed};
    const int L = s.levels ? s.levels : 5;
    const int milletari[5] = {1, 1, 2, 3, 3};
    for (int l = 0; l < L; ++l) c.down_convs.push_back(milletari[std::min(l, 4)]);
    for (int j = 0; j + 1 < L; ++j) c.up_convs.push_back(c.down_convs[L - 2 - j]);
    backbone_ = register_module("backbone", std::make_shared<VNet>(c));
  } else if (s.backbone == "segresnet") {
    SegResNet::Config c{.in_channels = s.in_channels, .classes = s.classes, .init_filters = s.width,
                        .blocks_down = {}, .blocks_up = {}, .norm_groups = s.norm_groups, .head_extra_in = extra,
                        .seed = s.seed, .vae = s.vae, .vae_input = s.vae_input};
    const int L = s.levels ? s.levels : 4;
    const int monai[4] = {1, 2, 2, 4};
    for (int l = 0; l < L; ++l) c.blocks_down.push_back(monai[std::min(l, 3)]);
    c.blocks_up.assign(static_cast<size_t>(L - 1), 1);
    backbone_ = register_module("backbone", std::make_shared<SegResNet>(c));
  } else {
    fail("Net3d: unknown backbone '", s.backbone, "' (expected unet3d, vnet or segresnet)");
  }
  SEG_CHECK(!s.vae || s.backbone == "segresnet", "Net3d: the VAE branch is SegResNet's (got backbone ", s.backbone, ")");
  if (s.edge) {
    EdgeStream::Config c{.encoder_channels = backbone_->encoder_channels(),
                         .decoder_first_channels = backbone_->decoder_first_channels(),
                         .width = s.edge_width,
                         .out_channels = s.edge_per_class ? s.classes - 1 : 1,
                         .norm_groups = s.norm_groups,
                         .seed = s.seed + 1};
    stream_ = register_module("edge", std::make_shared<EdgeStream>(c));
  }
}

int64_t Net3d::edge_channels() const { return stream_ ? stream_->config().out_channels : 0; }

Net3d::Output Net3d::forward(const Tensor& x, Generator* gen) const {
  BackboneFeatures f = backbone_->features(x);
  Output o;
  if (spec_.vae && is_training() && gen) o.vae_loss = static_cast<const SegResNet&>(*backbone_).vae_loss(x, f, *gen);
  if (!stream_) {
    o.logits = backbone_->head(f.decoder_last);
    return o;
  }
  EdgeStream::Output e = stream_->forward(f);
  o.logits = backbone_->head(cat({f.decoder_last, e.features}, 1));
  o.edge_logits = e.logits;
  return o;
}

}  // namespace seg
