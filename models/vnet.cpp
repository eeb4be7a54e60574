// V-Net with GroupNorm (see vnet.h).
#include "models/vnet.h"

#include <sstream>

#include "kernels/elementwise.h"
#include "kernels/shape_ops.h"

namespace seg {

namespace {
const ActSpec kPReLU{.kind = Act::PReLU, .prelu_weights = 0, .prelu_init = 0.25};  // one slope per channel
NormSpec gn(int64_t channels, int64_t groups) { return {.kind = Norm::Group, .groups = group_count(channels, groups)}; }

// x (N, C, ...) tiled along channels to `width`: channel c of the result is channel c mod C of x.
Tensor tile_channels(const Tensor& x, int64_t width) {
  const int64_t c = x.size(1);
  if (c == width) return x;
  std::vector<Tensor> parts(static_cast<size_t>(width / c), x);
  if (width % c) parts.push_back(narrow(x, 1, 0, width % c));
  return cat(parts, 1);
}
}  // namespace

VNet::Stage::Stage(int64_t in, int64_t width, int convs, const VNet::Config& cfg, Generator& gen) {
  SEG_CHECK(convs >= 1, "VNet: every stage needs at least one convolution, got ", convs);
  const ConvSpec spec{.kernel = {cfg.kernel}, .init = Init::PyTorchDefault};
  for (int i = 0; i < convs; ++i) {
    const ActSpec act = i + 1 < convs ? kPReLU : ActSpec{.kind = Act::None};
    convs_.push_back(register_module("conv" + std::to_string(i),
                                     std::make_shared<ConvNormAct>(3, i == 0 ? in : width, width, spec,
                                                                   gn(width, cfg.norm_groups), act, gen)));
  }
  ActSpec out = kPReLU;
  out.prelu_weights = width;
  out_act_ = register_module("act", std::make_shared<Activation>(out));
}

Tensor VNet::Stage::forward(const Tensor& x, const Tensor& residual) const {
  Tensor h = x;
  for (const auto& c : convs_) h = c->forward(h);
  return out_act_->forward(add(h, residual));
}

VNet::VNet(const Config& cfg) : cfg_(cfg) {
  const size_t L = cfg.down_convs.size();
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0 && cfg.base_width > 0, "VNet: in_channels (", cfg.in_channels,
            "), classes (", cfg.classes, ") and base_width (", cfg.base_width, ") must be positive");
  SEG_CHECK(L >= 2 && cfg.up_convs.size() + 1 == L, "VNet: down_convs needs at least 2 stages and up_convs one fewer, "
            "got ", L, " and ", cfg.up_convs.size());
  SEG_CHECK(cfg.kernel > 0 && cfg.kernel % 2 == 1, "VNet: kernel must be odd, got ", cfg.kernel);
  SEG_CHECK(cfg.head_extra_in >= 0, "VNet: head_extra_in must be >= 0");
  Generator gen(cfg.seed);
  const std::vector<int64_t> w = encoder_channels();
  const ConvSpec down{.kernel = {2}, .stride = {2}, .padding = {0}, .init = Init::PyTorchDefault};
  const ConvSpec up{.kernel = {2}, .stride = {2}, .padding = {0}, .init = Init::PyTorchDefault};
  for (size_t l = 0; l < L; ++l) {
    const std::string id = std::to_string(l);
    if (l > 0)
      down_.push_back(register_module("down" + id, std::make_shared<ConvNormAct>(3, w[l - 1], w[l], down,
                                                                                 gn(w[l], cfg.norm_groups), kPReLU, gen)));
    enc_.push_back(register_module("enc" + id, std::make_shared<Stage>(l == 0 ? cfg.in_channels : w[l], w[l],
                                                                        cfg.down_convs[l], cfg, gen)));
  }
  int64_t in = w[L - 1];
  for (size_t j = 0; j + 1 < L; ++j) {
    const size_t l = L - 2 - j;
    const std::string id = std::to_string(l);
    up_.push_back(register_module("up" + id, std::make_shared<ConvTranspose3d>(in, w[l], up, gen)));
    up_gn_.push_back(register_module("up" + id + "_gn", std::make_shared<GroupNorm>(group_count(w[l], cfg.norm_groups), w[l])));
    ActSpec a = kPReLU;
    a.prelu_weights = w[l];
    up_act_.push_back(register_module("up" + id + "_act", std::make_shared<Activation>(a)));
    dec_.push_back(register_module("dec" + id, std::make_shared<Stage>(2 * w[l], 2 * w[l], cfg.up_convs[j], cfg, gen)));
    in = 2 * w[l];
  }
  head_a_ = register_module("head_a", std::make_shared<ConvNormAct>(
                                          3, 2 * w[0] + cfg.head_extra_in, cfg.classes,
                                          ConvSpec{.kernel = {cfg.kernel}, .init = Init::PyTorchDefault},
                                          NormSpec{.kind = Norm::None}, kPReLU, gen));
  head_b_ = register_module("head_b", std::make_shared<Conv3d>(cfg.classes, cfg.classes,
                                                               ConvSpec{.kernel = {1}, .init = Init::PyTorchDefault}, gen));
}

std::vector<int64_t> VNet::encoder_channels() const {
  std::vector<int64_t> w;
  for (size_t l = 0; l < cfg_.down_convs.size(); ++l) w.push_back(cfg_.base_width << l);
  return w;
}

int64_t VNet::decoder_first_channels() const { return 2 * (cfg_.base_width << (cfg_.down_convs.size() - 2)); }

BackboneFeatures VNet::features(const Tensor& x) const {
  const int64_t div = divisor();
  SEG_CHECK(x.dim() == 5 && x.size(1) == cfg_.in_channels && x.size(2) % div == 0 && x.size(3) % div == 0 &&
                x.size(4) % div == 0,
            "VNet: input must be (N, ", cfg_.in_channels, ", D, H, W) with D, H, W multiples of ", div, ", got ",
            x.describe());
  BackboneFeatures f;
  const size_t L = enc_.size();
  Tensor h = enc_[0]->forward(x, tile_channels(x, cfg_.base_width));
  f.encoder.push_back(h);
  for (size_t l = 1; l < L; ++l) {
    const Tensor d = down_[l - 1]->forward(h);
    h = enc_[l]->forward(d, d);
    f.encoder.push_back(h);
  }
  for (size_t j = 0; j < dec_.size(); ++j) {
    const Tensor u = up_act_[j]->forward(up_gn_[j]->forward(up_[j]->forward(h)));
    const Tensor c = cat({u, f.encoder[L - 2 - j]}, 1);
    h = dec_[j]->forward(c, c);
    if (j == 0) f.decoder_first = h;
  }
  f.decoder_last = h;
  return f;
}

Tensor VNet::head(const Tensor& decoder_last) const {
  SEG_CHECK(decoder_last.dim() == 5 && decoder_last.size(1) == 2 * cfg_.base_width + cfg_.head_extra_in,
            "VNet::head: expected ", 2 * cfg_.base_width + cfg_.head_extra_in, " channels, got ", decoder_last.describe());
  return head_b_->forward(head_a_->forward(decoder_last));
}

std::string VNet::describe() const {
  std::ostringstream s;
  s << "V-Net (GN): width " << cfg_.base_width << " doubling over " << cfg_.down_convs.size() << " levels, "
    << cfg_.kernel << "³ convs + PReLU, residual stages of";
  for (size_t i = 0; i < cfg_.down_convs.size(); ++i) s << (i ? "," : "") << " " << cfg_.down_convs[i];
  s << " convs down and";
  for (size_t i = 0; i < cfg_.up_convs.size(); ++i) s << (i ? "," : "") << " " << cfg_.up_convs[i];
  s << " up, 2³ stride-2 conv down, transposed conv up";
  return s.str();
}

}  // namespace seg
