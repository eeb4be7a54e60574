// SegResNet (see segresnet.h).
#include "models/segresnet.h"

#include <sstream>

#include "kernels/elementwise.h"
#include "kernels/upsample.h"

namespace seg {

namespace {
ConvSpec conv(int64_t k, int64_t stride = 1, bool bias = false) {
  return {.kernel = {k}, .stride = {stride}, .bias = bias, .init = Init::PyTorchDefault};
}
}  // namespace

SegResNet::ResBlock::ResBlock(int64_t c, int64_t groups, Generator& gen) {
  gn1_ = register_module("norm1", std::make_shared<GroupNorm>(group_count(c, groups), c));
  gn2_ = register_module("norm2", std::make_shared<GroupNorm>(group_count(c, groups), c));
  conv1_ = register_module("conv1", std::make_shared<Conv3d>(c, c, conv(3), gen));
  conv2_ = register_module("conv2", std::make_shared<Conv3d>(c, c, conv(3), gen));
}

Tensor SegResNet::ResBlock::forward(const Tensor& x) const {
  Tensor h = conv1_->forward(relu(gn1_->forward(x)));
  h = conv2_->forward(relu(gn2_->forward(h)));
  return add(h, x);
}

SegResNet::SegResNet(const Config& cfg) : cfg_(cfg) {
  const size_t L = cfg.blocks_down.size();
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0 && cfg.init_filters > 0, "SegResNet: in_channels (",
            cfg.in_channels, "), classes (", cfg.classes, ") and init_filters (", cfg.init_filters, ") must be positive");
  SEG_CHECK(L >= 2 && cfg.blocks_up.size() + 1 == L, "SegResNet: blocks_down needs at least 2 levels and blocks_up "
            "one fewer, got ", L, " and ", cfg.blocks_up.size());
  SEG_CHECK(cfg.head_extra_in >= 0, "SegResNet: head_extra_in must be >= 0");
  Generator gen(cfg.seed);
  const std::vector<int64_t> f = encoder_channels();
  conv_init_ = register_module("conv_init", std::make_shared<Conv3d>(cfg.in_channels, f[0], conv(3), gen));
  for (size_t l = 0; l < L; ++l) {
    const std::string id = std::to_string(l);
    if (l > 0) down_conv_.push_back(register_module("down" + id + "_conv", std::make_shared<Conv3d>(f[l - 1], f[l], conv(3, 2), gen)));
    std::vector<std::shared_ptr<ResBlock>> blocks;
    for (int b = 0; b < cfg.blocks_down[l]; ++b)
      blocks.push_back(register_module("down" + id + "_block" + std::to_string(b),
                                       std::make_shared<ResBlock>(f[l], cfg.norm_groups, gen)));
    down_blocks_.push_back(blocks);
  }
  for (size_t j = 0; j + 1 < L; ++j) {
    const size_t l = L - 2 - j;
    const std::string id = std::to_string(l);
    std::vector<std::shared_ptr<ResBlock>> blocks;
    for (int b = 0; b < cfg.blocks_up[j]; ++b)
      blocks.push_back(register_module("up" + id + "_block" + std::to_string(b),
                                       std::make_shared<ResBlock>(f[l], cfg.norm_groups, gen)));
    up_blocks_.push_back(blocks);
    up_conv_.push_back(register_module("up" + id + "_conv", std::make_shared<Conv3d>(f[l + 1], f[l], conv(1), gen)));
  }
  const int64_t head_in = f[0] + cfg.head_extra_in;
  head_gn_ = register_module("head_gn", std::make_shared<GroupNorm>(group_count(head_in, cfg.norm_groups), head_in));
  head_conv_ = register_module("head_conv", std::make_shared<Conv3d>(head_in, cfg.classes, conv(1, 1, true), gen));
}

std::vector<int64_t> SegResNet::encoder_channels() const {
  std::vector<int64_t> f;
  for (size_t l = 0; l < cfg_.blocks_down.size(); ++l) f.push_back(cfg_.init_filters << l);
  return f;
}

BackboneFeatures SegResNet::features(const Tensor& x) const {
  const int64_t div = divisor();
  SEG_CHECK(x.dim() == 5 && x.size(1) == cfg_.in_channels && x.size(2) % div == 0 && x.size(3) % div == 0 &&
                x.size(4) % div == 0,
            "SegResNet: input must be (N, ", cfg_.in_channels, ", D, H, W) with D, H, W multiples of ", div, ", got ",
            x.describe());
  BackboneFeatures f;
  Tensor h = conv_init_->forward(x);
  for (size_t l = 0; l < down_blocks_.size(); ++l) {
    if (l > 0) h = down_conv_[l - 1]->forward(h);
    for (const auto& b : down_blocks_[l]) h = b->forward(h);
    f.encoder.push_back(h);
  }
  const size_t L = f.encoder.size();
  for (size_t j = 0; j < up_blocks_.size(); ++j) {
    h = upsample_trilinear3d_scale(up_conv_[j]->forward(h), {2.0}, false);
    h = add(h, f.encoder[L - 2 - j]);
    for (const auto& b : up_blocks_[j]) h = b->forward(h);
    if (j == 0) f.decoder_first = h;
  }
  f.decoder_last = h;
  return f;
}

Tensor SegResNet::head(const Tensor& decoder_last) const {
  SEG_CHECK(decoder_last.dim() == 5 && decoder_last.size(1) == cfg_.init_filters + cfg_.head_extra_in,
            "SegResNet::head: expected ", cfg_.init_filters + cfg_.head_extra_in, " channels, got ",
            decoder_last.describe());
  return head_conv_->forward(relu(head_gn_->forward(decoder_last)));
}

std::string SegResNet::describe() const {
  std::ostringstream s;
  s << "SegResNet (MONAI's definition): init filters " << cfg_.init_filters << ", blocks";
  for (size_t i = 0; i < cfg_.blocks_down.size(); ++i) s << (i ? "-" : " ") << cfg_.blocks_down[i];
  s << " down,";
  for (size_t i = 0; i < cfg_.blocks_up.size(); ++i) s << (i ? "-" : " ") << cfg_.blocks_up[i];
  s << " up, pre-activation GN + ReLU + conv3 residual blocks, stride-2 conv down, 1×1×1 conv + trilinear up, "
       "additive skips";
  return s.str();
}

}  // namespace seg
