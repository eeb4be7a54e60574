// SegResNet (see segresnet.h).
#include "models/segresnet.h"

#include <cmath>
#include <sstream>

#include "kernels/elementwise.h"
#include "kernels/nll.h"
#include "kernels/reduce.h"
#include "kernels/upsample.h"

namespace seg {

namespace {
// softplus(x) = log(1 + exp(x)), written stably as relu(x) + log(1 + exp(−|x|)).
Tensor softplus_of(const Tensor& x) { return add(relu(x), log(add_scalar(exp(neg(abs(x))), 1.0))); }
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
  if (!cfg.vae) return;
  const int64_t zoom = divisor(), fv = f[L - 1], small = 16;
  std::vector<int64_t> k;
  for (int a = 0; a < 3; ++a) {
    SEG_CHECK(cfg.vae_input[a] > 0 && cfg.vae_input[a] % (2 * zoom) == 0, "SegResNet: vae_input must be the training "
              "patch (D, H, W), each a multiple of ", 2 * zoom, ", got ", cfg.vae_input[a]);
    k.push_back(cfg.vae_input[a] / (2 * zoom));
  }
  SEG_CHECK(cfg.vae_nz > 0, "SegResNet: vae_nz must be positive");
  const int64_t g = cfg.norm_groups;
  vae_gn_in_ = register_module("vae_down_gn1", std::make_shared<GroupNorm>(group_count(fv, g), fv));
  vae_down_ = register_module("vae_down_conv", std::make_shared<Conv3d>(fv, small, conv(3, 2, true), gen));
  vae_gn_mid_ = register_module("vae_down_gn2", std::make_shared<GroupNorm>(group_count(small, g), small));
  const ConvSpec fc{.kernel = k, .padding = {0}, .init = Init::PyTorchDefault};  // fan_in = 16·d·h·w, as nn.Linear
  vae_fc1_ = register_module("vae_fc1", std::make_shared<Conv3d>(small, cfg.vae_nz, fc, gen));
  vae_fc2_ = register_module("vae_fc2", std::make_shared<Conv3d>(small, cfg.vae_nz, fc, gen));
  vae_fc3_ = register_module("vae_fc3", std::make_shared<ConvTranspose3d>(
                                            cfg.vae_nz, small, ConvSpec{.kernel = k, .padding = {0}, .bias = false}, gen));
  // nn.Linear(nz, total)'s init: U(±1/√nz) on weight and bias.
  const double bound = 1.0 / std::sqrt(static_cast<double>(cfg.vae_nz));
  fill_uniform(vae_fc3_->weight, gen, -bound, bound);
  Tensor b = Tensor::empty({1, small, k[0], k[1], k[2]});
  fill_uniform(b, gen, -bound, bound);
  vae_fc3_bias_ = register_parameter("vae_fc3.bias", b);
  vae_up_conv_ = register_module("vae_fc_up_conv", std::make_shared<Conv3d>(small, fv, conv(1), gen));
  vae_gn_up_ = register_module("vae_fc_up_gn", std::make_shared<GroupNorm>(group_count(fv, g), fv));
  vae_gn_final_ = register_module("vae_final_gn", std::make_shared<GroupNorm>(group_count(f[0], g), f[0]));
  vae_final_ = register_module("vae_final_conv", std::make_shared<Conv3d>(f[0], cfg.in_channels, conv(1, 1, true), gen));
}

Tensor SegResNet::decode_up(Tensor h, const std::vector<Tensor>* skips, Tensor* first) const {
  const size_t L = down_blocks_.size();
  for (size_t j = 0; j < up_blocks_.size(); ++j) {
    h = upsample_trilinear3d_scale(up_conv_[j]->forward(h), {2.0}, false);
    if (skips) h = add(h, (*skips)[L - 2 - j]);
    for (const auto& b : up_blocks_[j]) h = b->forward(h);
    if (j == 0 && first) *first = h;
  }
  return h;
}

Tensor SegResNet::vae_loss(const Tensor& x, const BackboneFeatures& f, Generator& gen) const {
  SEG_CHECK(cfg_.vae, "SegResNet::vae_loss: the network was built without the VAE branch (Config::vae)");
  SEG_CHECK(x.dim() == 5 && x.size(2) == cfg_.vae_input[0] && x.size(3) == cfg_.vae_input[1] && x.size(4) == cfg_.vae_input[2],
            "SegResNet::vae_loss: the VAE's fully connected layers take ", cfg_.vae_input[0], "×", cfg_.vae_input[1], "×",
            cfg_.vae_input[2], " inputs, got ", x.describe());
  Tensor h = relu(vae_gn_mid_->forward(vae_down_->forward(relu(vae_gn_in_->forward(f.encoder.back())))));
  const Tensor mu = vae_fc1_->forward(h);  // (N, nz, 1, 1, 1)
  Tensor eps = Tensor::empty(mu.shape(), mu.dtype());
  fill_normal(eps, gen, 0, 1);
  eps = eps.to(mu.device());
  Tensor reg, z;
  if (cfg_.vae_estimate_std) {
    const Tensor sigma = softplus_of(vae_fc2_->forward(h));
    const Tensor s2 = square(sigma);
    reg = scale(mean_all(sub(add(square(mu), s2), add_scalar(log(add_scalar(s2, 1e-8)), 1.0))), 0.5);
    z = add(mu, mul(sigma, eps));
  } else {
    reg = mean_all(square(mu));
    z = add(mu, scale(eps, cfg_.vae_default_std));
  }
  h = relu(add(vae_fc3_->forward(z), vae_fc3_bias_));
  h = relu(vae_gn_up_->forward(upsample_trilinear3d_scale(vae_up_conv_->forward(h), {2.0}, false)));
  h = decode_up(h, nullptr, nullptr);
  const Tensor recon = vae_final_->forward(relu(vae_gn_final_->forward(h)));
  return add(reg, mse_loss(recon, x.detach()));
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
  f.decoder_last = decode_up(h, &f.encoder, &f.decoder_first);
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
