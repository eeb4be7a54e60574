// Residual U-Net (see residual_unet.h).
#include "models/residual_unet.h"

#include "kernels/elementwise.h"
#include "kernels/pool.h"

namespace seg {

CoordPlacement parse_coord_placement(const std::string& s) {
  if (s == "none") return CoordPlacement::None;
  if (s == "1st" || s == "first") return CoordPlacement::First;
  if (s == "enc" || s == "encoder") return CoordPlacement::Encoder;
  if (s == "all") return CoordPlacement::All;
  fail("--coordconv: expected none, 1st, enc or all, got '", s, "'");
}

const char* coord_placement_name(CoordPlacement p) {
  switch (p) {
    case CoordPlacement::None: return "none";
    case CoordPlacement::First: return "1st";
    case CoordPlacement::Encoder: return "enc";
    case CoordPlacement::All: return "all";
  }
  return "?";
}

namespace {
// Every conv of the network: 3×3, stride 1, padding 1, bias, He-normal on fan-out (the reference code's init).
ConvSpec conv3x3(bool coord) { return {.kernel = {3}, .coord = {.enabled = coord}}; }
const ActSpec kLeaky{.kind = Act::LeakyReLU, .negative_slope = 0.2};  // encoder and bridge
const ActSpec kRelu{.kind = Act::ReLU};                               // decoder
const ActSpec kNone{.kind = Act::None};
}  // namespace

ResidualBlock::ResidualBlock(int64_t in, int64_t out, const ActSpec& act, bool coord_first, bool coord_rest,
                             Generator& gen) {
  auto cba = [&](int64_t cin, const ActSpec& a, bool coord) {
    return std::make_shared<ConvNormAct>(2, cin, out, conv3x3(coord), NormSpec{.kind = Norm::Batch}, a, gen);
  };
  c1_ = register_module("conv1", cba(in, act, coord_first));
  c2a_ = register_module("conv2a", cba(out, act, coord_rest));
  c2b_ = register_module("conv2b", cba(out, act, coord_rest));
  c2c_ = register_module("conv2c", cba(out, kNone, coord_rest));
  out_ = register_module("conv3", cba(out, act, coord_rest));
}

Tensor ResidualBlock::forward(const Tensor& x) const {
  Tensor c1 = c1_->forward(x);
  Tensor c2 = c2c_->forward(c2b_->forward(c2a_->forward(c1)));
  return out_->forward(add(c1, c2));
}

ResidualUNet::ResidualUNet(const Config& cfg) : cfg_(cfg) {
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0 && cfg.base_width > 0, "ResidualUNet: in_channels (",
            cfg.in_channels, "), classes (", cfg.classes, ") and base_width (", cfg.base_width, ") must be positive");
  Generator gen(cfg.seed);
  const CoordPlacement coord = cfg.coord;
  const bool enc = coord == CoordPlacement::Encoder || coord == CoordPlacement::All;
  const bool all = coord == CoordPlacement::All;
  const int64_t w = cfg.base_width;
  const int64_t widths[4] = {w, 2 * w, 4 * w, 8 * w};
  int64_t in = cfg.in_channels;
  for (int i = 0; i < 4; ++i) {
    const bool first = (i == 0 && coord == CoordPlacement::First) || enc;
    down_.push_back(register_module("down" + std::to_string(i + 1),
                                    std::make_shared<ResidualBlock>(in, widths[i], kLeaky, first, enc, gen)));
    in = widths[i];
  }
  bridge_ = register_module("bridge", std::make_shared<ResidualBlock>(in, 16 * w, kLeaky, enc, enc, gen));
  in = 16 * w;
  for (int i = 3; i >= 0; --i) {
    const std::string id = std::to_string(4 - i);
    const ConvSpec up{.kernel = {3}, .stride = {2}, .padding = {1}, .output_padding = {1}, .coord = {.enabled = all}};
    deconv_.push_back(register_module("deconv" + id, std::make_shared<ConvTranspose2d>(in, widths[i], up, gen)));
    deconv_bn_.push_back(register_module("deconv" + id + "_bn", std::make_shared<BatchNorm>(widths[i])));
    up_.push_back(register_module("up" + id, std::make_shared<ResidualBlock>(widths[i], widths[i], kRelu, all, all, gen)));
    in = widths[i];
  }
  head_ = register_module("head", std::make_shared<Conv2d>(w, cfg.classes, conv3x3(all), gen));
}

Tensor ResidualUNet::forward(const Tensor& x) const {
  SEG_CHECK(x.dim() == 4 && x.size(2) % 16 == 0 && x.size(3) % 16 == 0, "ResidualUNet: input must be (N, C, H, W) with H "
            "and W multiples of 16 (four 2×2 pools), got ", x.describe());
  std::vector<Tensor> skips;
  Tensor h = x;
  for (const auto& d : down_) {
    h = d->forward(h);
    skips.push_back(h);
    h = max_pool2d(h, {2, 2}, {2, 2}).output;
  }
  h = bridge_->forward(h);
  for (size_t i = 0; i < up_.size(); ++i) {
    Tensor u = relu(deconv_bn_[i]->forward(deconv_[i]->forward(h)));
    h = up_[i]->forward(scale(add(u, skips[skips.size() - 1 - i]), 0.5));
  }
  return head_->forward(h);
}

}  // namespace seg
