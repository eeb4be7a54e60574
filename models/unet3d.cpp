// 3-D U-Net with GroupNorm (see unet3d.h).
#include "models/unet3d.h"

#include <sstream>

#include "kernels/pool.h"
#include "kernels/shape_ops.h"

namespace seg {

namespace {
ConvSpec conv3() { return {.kernel = {3}, .bias = false, .init = Init::PyTorchDefault}; }
}  // namespace

UNet3d::UNet3d(const Config& cfg) : cfg_(cfg) {
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0, "UNet3d: in_channels (", cfg.in_channels, ") and classes (",
            cfg.classes, ") must be positive");
  SEG_CHECK(cfg.widths.size() >= 2, "UNet3d: widths needs at least 2 resolutions, got ", cfg.widths.size());
  for (int64_t w : cfg.widths) SEG_CHECK(w > 0, "UNet3d: widths must be positive");
  SEG_CHECK(cfg.head_extra_in >= 0, "UNet3d: head_extra_in must be >= 0");
  Generator gen(cfg.seed);
  const int L = static_cast<int>(cfg.widths.size());
  auto cna = [&](int64_t in, int64_t out) {
    return std::make_shared<ConvNormAct>(3, in, out, conv3(),
                                         NormSpec{.kind = Norm::Group, .groups = group_count(out, cfg.norm_groups)},
                                         ActSpec{.kind = Act::ReLU}, gen);
  };
  int64_t in = cfg.in_channels;
  for (int l = 0; l < L; ++l) {
    const std::string id = std::to_string(l);
    enc_a_.push_back(register_module("enc" + id + "a", cna(in, cfg.widths[l])));
    enc_b_.push_back(register_module("enc" + id + "b", cna(cfg.widths[l], cfg.widths[l])));
    in = cfg.widths[l];
  }
  for (int l = L - 2; l >= 0; --l) {
    const std::string id = std::to_string(l);
    const int64_t w = cfg.widths[l];
    up_.push_back(register_module(
        "up" + id, std::make_shared<ConvTranspose3d>(
                       in, w, ConvSpec{.kernel = {2}, .stride = {2}, .padding = {0}, .init = Init::PyTorchDefault}, gen)));
    dec_a_.push_back(register_module("dec" + id + "a", cna(2 * w, w)));
    dec_b_.push_back(register_module("dec" + id + "b", cna(w, w)));
    in = w;
  }
  head_ = register_module("head", std::make_shared<Conv3d>(cfg.widths[0] + cfg.head_extra_in, cfg.classes,
                                                           ConvSpec{.kernel = {1}, .init = Init::PyTorchDefault}, gen));
}

BackboneFeatures UNet3d::features(const Tensor& x) const {
  const int64_t div = divisor();
  SEG_CHECK(x.dim() == 5 && x.size(1) == cfg_.in_channels && x.size(2) % div == 0 && x.size(3) % div == 0 &&
                x.size(4) % div == 0,
            "UNet3d: input must be (N, ", cfg_.in_channels, ", D, H, W) with D, H, W multiples of ", div, ", got ",
            x.describe());
  BackboneFeatures f;
  Tensor h = x;
  const size_t L = enc_a_.size();
  for (size_t l = 0; l < L; ++l) {
    if (l > 0) h = max_pool3d(h, {2}).output;
    h = enc_b_[l]->forward(enc_a_[l]->forward(h));
    f.encoder.push_back(h);
  }
  for (size_t i = 0; i < up_.size(); ++i) {
    const Tensor u = up_[i]->forward(h);
    h = dec_b_[i]->forward(dec_a_[i]->forward(cat({u, f.encoder[L - 2 - i]}, 1)));
    if (i == 0) f.decoder_first = h;
  }
  f.decoder_last = h;
  return f;
}

Tensor UNet3d::head(const Tensor& decoder_last) const {
  SEG_CHECK(decoder_last.dim() == 5 && decoder_last.size(1) == cfg_.widths[0] + cfg_.head_extra_in,
            "UNet3d::head: expected ", cfg_.widths[0] + cfg_.head_extra_in, " channels, got ", decoder_last.describe());
  return head_->forward(decoder_last);
}

std::string UNet3d::describe() const {
  std::ostringstream s;
  s << "3-D U-Net (GN): widths";
  for (size_t i = 0; i < cfg_.widths.size(); ++i) s << (i ? "-" : " ") << cfg_.widths[i];
  s << ", 2 × (conv3 + GN + ReLU) per level, max-pool down, transposed-conv up, concatenated skips, 1×1×1 head";
  return s.str();
}

}  // namespace seg
