// Four-layer CNN (see small_cnn.h).
#include "models/small_cnn.h"

#include "engine/error.h"

namespace seg {

SmallCNN::SmallCNN(const Config& cfg) : cfg_(cfg) {
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0 && cfg.width > 0 && cfg.depth > 0, "SmallCNN: in_channels (",
            cfg.in_channels, "), classes (", cfg.classes, "), width (", cfg.width, ") and depth (", cfg.depth,
            ") must be positive");
  SEG_CHECK(cfg.padding_mode == "zeros" || cfg.padding_mode == "reflect",
            "SmallCNN: padding_mode must be \"zeros\" or \"reflect\", got \"", cfg.padding_mode, "\"");
  Generator gen(cfg.seed);
  const CoordSpec pe = positional_encoding(cfg.pe_lambda);
  int64_t in = cfg.in_channels;
  for (int64_t l = 0; l < cfg.depth; ++l) {
    const ConvSpec spec{.kernel = {3}, .padding_mode = cfg.padding_mode, .coord = l == 0 ? pe : CoordSpec{},
                        .init = cfg.init};
    convs_.push_back(register_module("conv" + std::to_string(l + 1),
                                     std::make_shared<ConvNormAct>(2, in, cfg.width, spec, NormSpec{.kind = Norm::Batch},
                                                                   ActSpec{.kind = Act::ReLU}, gen)));
    in = cfg.width;
  }
  score_ = register_module("score", std::make_shared<Conv2d>(in, cfg.classes,
                                                             ConvSpec{.kernel = {1}, .init = cfg.init}, gen));
}

Tensor SmallCNN::forward(const Tensor& x) const {
  SEG_CHECK(x.dim() == 4 && x.size(1) == cfg_.in_channels, "SmallCNN: input must be (N, ", cfg_.in_channels,
            ", H, W), got ", x.describe());
  Tensor h = x;
  for (const auto& c : convs_) h = c->forward(h);
  return score_->forward(h);
}

}  // namespace seg
