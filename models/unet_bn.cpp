// U-Net with BatchNorm (see unet_bn.h).
#include "models/unet_bn.h"

#include "engine/error.h"
#include "kernels/pool.h"
#include "kernels/shape_ops.h"
#include "kernels/upsample.h"

namespace seg {

UNetBN::UNetBN(const Config& cfg) : cfg_(cfg) {
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0 && cfg.base_width > 0, "UNetBN: in_channels (", cfg.in_channels,
            "), classes (", cfg.classes, ") and base_width (", cfg.base_width, ") must be positive");
  SEG_CHECK(cfg.padding_mode == "zeros" || cfg.padding_mode == "reflect",
            "UNetBN: padding_mode must be \"zeros\" or \"reflect\", got \"", cfg.padding_mode, "\"");
  Generator gen(cfg.seed);
  const CoordSpec pe = positional_encoding(cfg.pe_lambda);
  auto conv = [&](int64_t in, int64_t out, bool first) {
    const ConvSpec spec{.kernel = {3}, .padding_mode = cfg.padding_mode, .coord = first ? pe : CoordSpec{},
                        .init = cfg.init};
    return std::make_shared<ConvNormAct>(2, in, out, spec, NormSpec{.kind = Norm::Batch}, ActSpec{.kind = Act::ReLU},
                                         gen);
  };
  const int64_t w = cfg.base_width;
  const int64_t enc_w[5] = {w, 2 * w, 4 * w, 8 * w, 8 * w};
  int64_t in = cfg.in_channels;
  for (int l = 0; l < 5; ++l) {
    const std::string id = "conv" + std::to_string(l + 1) + "_";
    enc_[2 * l] = register_module(id + "1", conv(in, enc_w[l], l == 0));
    enc_[2 * l + 1] = register_module(id + "2", conv(enc_w[l], enc_w[l], false));
    in = enc_w[l];
  }
  const int64_t dec_w[4] = {4 * w, 2 * w, w, w};
  for (int d = 0; d < 4; ++d) {
    const std::string id = "conv" + std::to_string(d + 6) + "_";
    in += enc_w[3 - d];  // the concatenated skip of the matching encoder level
    dec_[2 * d] = register_module(id + "1", conv(in, dec_w[d], false));
    dec_[2 * d + 1] = register_module(id + "2", conv(dec_w[d], dec_w[d], false));
    in = dec_w[d];
  }
  score_ = register_module("score", std::make_shared<Conv2d>(in, cfg.classes,
                                                             ConvSpec{.kernel = {1}, .init = cfg.init}, gen));
}

Tensor UNetBN::forward(const Tensor& x) const {
  SEG_CHECK(x.dim() == 4 && x.size(1) == cfg_.in_channels && x.size(2) % 16 == 0 && x.size(3) % 16 == 0 &&
                x.size(2) > 0 && x.size(3) > 0,
            "UNetBN: input must be (N, ", cfg_.in_channels, ", H, W) with H and W multiples of 16 (four 2×2 pools), got ",
            x.describe());
  Tensor skips[4];
  Tensor h = x;
  for (int l = 0; l < 5; ++l) {
    h = enc_[2 * l + 1]->forward(enc_[2 * l]->forward(h));
    if (l < 4) {
      skips[l] = h;
      h = max_pool2d(h, {2, 2}, {2, 2}).output;
    }
  }
  for (int d = 0; d < 4; ++d) {
    const Tensor& s = skips[3 - d];
    h = upsample_bilinear2d(h, s.size(2), s.size(3), cfg_.align_corners);
    h = dec_[2 * d + 1]->forward(dec_[2 * d]->forward(cat({s, h}, 1)));
  }
  return score_->forward(h);
}

}  // namespace seg
