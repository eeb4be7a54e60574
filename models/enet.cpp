// ENet (see enet.h).
#include "models/enet.h"

#include <cmath>
#include <string>

#include "engine/error.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/pool.h"
#include "kernels/shape_ops.h"
#include "kernels/upsample.h"

namespace seg {

namespace {

const ActSpec kPReLU{.kind = Act::PReLU, .prelu_weights = 1};  // nn.PReLU(): one shared slope, 0.25
const NormSpec kBN{.kind = Norm::Batch};

// Every conv is built with PyTorch's default init (the authors keep its biases); weights are redrawn afterwards.
ConvSpec conv(std::vector<int64_t> k, std::vector<int64_t> dilation = {1}, bool bias = true) {
  return {.kernel = std::move(k), .dilation = std::move(dilation), .bias = bias, .init = Init::PyTorchDefault};
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

EnetBottleneck::EnetBottleneck(EnetBlock kind, int64_t in, int64_t out, int64_t dilation, double p, bool spatial,
                               int64_t projection, bool keep_unused, Generator& gen, std::shared_ptr<Generator> drop)
    : kind_(kind), in_(in), out_(out), p_(p), spatial_(spatial), drop_gen_(std::move(drop)) {
  SEG_CHECK(projection > 0 && in % projection == 0, "EnetBottleneck: in channels (", in,
            ") must be divisible by the projection ratio (", projection, ")");
  SEG_CHECK(p >= 0 && p < 1, "EnetBottleneck: dropout must be in [0, 1), got ", p);
  const int64_t m = in / projection;
  // Registration order follows the authors' module, so parameter lists line up with theirs.
  if (kind == EnetBlock::Downsample) {
    SEG_CHECK(out >= in, "EnetBottleneck: a downsampling bottleneck cannot reduce channels (", in, " → ", out, ")");
    ConvSpec s = conv({2});
    s.stride = {2};
    s.padding = {0};
    first_ = register_module("conv0", std::make_shared<ConvNormAct>(2, in, m, s, kBN, kPReLU, gen));
  } else if (kind == EnetBlock::Upsample) {
    first_ = register_module("conv0", std::make_shared<ConvNormAct>(2, in, m, conv({3}), kBN, kPReLU, gen));
  } else {
    first_ = register_module("block0", std::make_shared<ConvNormAct>(2, in, m, conv({1}), kBN, kPReLU, gen));
  }
  if (kind == EnetBlock::Asymmetric) {
    asym_a_ = register_module("asym_5x1", std::make_shared<Conv2d>(m, m, conv({5, 1}), gen));
    asym_b_ = register_module("asym_1x5", std::make_shared<Conv2d>(m, m, conv({1, 5}), gen));
    asym_bn_ = register_module("bn", std::make_shared<BatchNorm>(m));
    asym_act_ = register_module("act", std::make_shared<Activation>(kPReLU));
  } else {
    const int64_t d = (kind == EnetBlock::Dilated || kind == EnetBlock::Last) ? dilation : 1;
    SEG_CHECK(d >= 1, "EnetBottleneck: dilation must be >= 1, got ", d);
    mid_ = register_module("conv1", std::make_shared<ConvNormAct>(2, m, m, conv({3}, {d}), kBN, kPReLU, gen));
  }
  last_ = register_module("block2", std::make_shared<ConvNormAct>(2, m, out, conv({1}), kBN, kPReLU, gen));
  const bool projects = kind == EnetBlock::Regular || kind == EnetBlock::Asymmetric;
  SEG_CHECK(kind == EnetBlock::Downsample || kind == EnetBlock::Upsample || kind == EnetBlock::Last ||
                (projects ? out <= in : out == in),
            "EnetBottleneck: in (", in, ") and out (", out, ") channels do not fit this kind of bottleneck");
  if (kind == EnetBlock::Last) main_conv_ = register_module("conv_out", std::make_shared<Conv2d>(in, out, conv({3}), gen));
  if (kind != EnetBlock::Upsample || keep_unused) act_ = register_module("act_out", std::make_shared<Activation>(kPReLU));
  if (projects && in > out)
    main_cba_ = register_module("conv_out", std::make_shared<ConvNormAct>(2, in, out, conv({1}), kBN, kPReLU, gen));
}

Tensor EnetBottleneck::branch(const Tensor& x) const {
  Tensor h = first_->forward(x);
  if (asym_a_) h = asym_act_->forward(asym_bn_->forward(asym_b_->forward(asym_a_->forward(h))));
  else h = mid_->forward(h);
  h = last_->forward(h);
  return spatial_ ? dropout2d(h, p_, is_training(), *drop_gen_) : dropout(h, p_, is_training(), *drop_gen_);
}

Tensor EnetBottleneck::forward(const Tensor& x) const {
  SEG_CHECK(kind_ != EnetBlock::Downsample, "EnetBottleneck: a downsampling bottleneck is called by forward_down");
  SEG_CHECK(x.dim() == 4 && x.size(1) == in_, "EnetBottleneck: expected (N, ", in_, ", H, W), got ", x.describe());
  Tensor b = branch(x);
  if (kind_ == EnetBlock::Upsample) return b;
  Tensor main = main_conv_ ? main_conv_->forward(x) : main_cba_ ? main_cba_->forward(x) : x;
  return act_->forward(add(main, b));
}

PoolResult EnetBottleneck::forward_down(const Tensor& x) const {
  SEG_CHECK(kind_ == EnetBlock::Downsample, "EnetBottleneck: forward_down is for downsampling bottlenecks");
  SEG_CHECK(x.dim() == 4 && x.size(1) == in_ && x.size(2) % 2 == 0 && x.size(3) % 2 == 0,
            "EnetBottleneck: expected (N, ", in_, ", H, W) with even H and W, got ", x.describe());
  PoolResult pool = max_pool2d(x, {2}, {2});
  Tensor b = branch(x);
  // main branch zero-padded from in to out channels: only the first `in` channels of the sum see it
  Tensor sum = add(narrow(b, 1, 0, in_), pool.output);
  Tensor h = out_ > in_ ? cat({sum, narrow(b, 1, in_, out_ - in_)}, 1) : sum;
  return {act_->forward(h), pool.indices};
}

ENet::ENet(const Config& cfg) : cfg_(cfg) {
  const int64_t n = cfg.base_width, P = cfg.projection;
  SEG_CHECK(cfg.in_channels > 0 && cfg.classes > 0, "ENet: in_channels (", cfg.in_channels, ") and classes (",
            cfg.classes, ") must be positive");
  SEG_CHECK(n > cfg.in_channels, "ENet: base_width (", n, ") must exceed in_channels (", cfg.in_channels,
            "): the initial conv has base_width − in_channels channels");
  SEG_CHECK(P > 0 && (2 * n) % P == 0 && n % P == 0, "ENet: base_width (", n,
            ") must be divisible by the projection ratio (", P, ")");
  Generator gen(cfg.seed);
  drop_gen_ = std::make_shared<Generator>(cfg.seed ^ 0xD409D409ull);
  const bool sp = cfg.spatial_dropout, keep = cfg.unused_heads;
  auto block = [&](EnetBlock k, int64_t in, int64_t out, double p, int64_t dil = 1) {
    return std::make_shared<EnetBottleneck>(k, in, out, dil, p, sp, P, keep, gen, drop_gen_);
  };
  ConvSpec init = conv({3});
  init.stride = {2};
  initial_ = register_module("conv0", std::make_shared<Conv2d>(cfg.in_channels, n - cfg.in_channels, init, gen));

  stage1_.push_back(block(EnetBlock::Downsample, n, 4 * n, 0.01));
  for (int i = 0; i < 4; ++i) stage1_.push_back(block(EnetBlock::Regular, 4 * n, 4 * n, 0.01));
  for (size_t i = 0; i < stage1_.size(); ++i) register_module("bottleneck1_" + std::to_string(i), stage1_[i]);

  const int64_t w = 8 * n;
  stage23_.push_back(block(EnetBlock::Downsample, 4 * n, w, 0.01));
  for (int stage = 2; stage <= 3; ++stage) {
    stage23_.push_back(block(EnetBlock::Regular, w, w, 0.1));
    stage23_.push_back(block(EnetBlock::Dilated, w, w, 0.01, 2));
    stage23_.push_back(block(EnetBlock::Asymmetric, w, w, 0.1));
    stage23_.push_back(block(EnetBlock::Dilated, w, w, 0.01, 4));
    stage23_.push_back(block(EnetBlock::Regular, w, w, 0.1));
    stage23_.push_back(block(EnetBlock::Dilated, w, w, 0.01, 8));
    stage23_.push_back(block(EnetBlock::Asymmetric, w, w, 0.1));
    stage23_.push_back(stage == 2 ? block(EnetBlock::Dilated, w, w, 0.01, 16) : block(EnetBlock::Last, w, 4 * n, 0.01, 16));
  }
  for (size_t i = 0; i < stage23_.size(); ++i)
    register_module(i < 9 ? "bottleneck2_" + std::to_string(i) : "bottleneck3_" + std::to_string(i - 8), stage23_[i]);

  up1_ = register_module("up1_0", block(EnetBlock::Upsample, 8 * n, 4 * n, 0.01));
  up1_act_ = register_module("up1_act", std::make_shared<Activation>(kPReLU));
  up1_a_ = register_module("up1_1", block(EnetBlock::Regular, 4 * n, 4 * n, 0.1));
  up1_b_ = register_module("up1_2", block(EnetBlock::Regular, 4 * n, n, 0.1));
  up2_ = register_module("up2_1", block(EnetBlock::Upsample, 2 * n, n, 0.01));
  up2_a_ = register_module("up2_2", block(EnetBlock::Regular, n, n, 0.1));
  up2_act_ = register_module("up2_act", std::make_shared<Activation>(kPReLU));
  head_a_ = register_module("head_conv1", std::make_shared<ConvNormAct>(2, n, n, conv({3}, {1}, false), kBN, kPReLU, gen));
  head_b_ = register_module("head_conv2", std::make_shared<ConvNormAct>(2, n, n, conv({3}, {1}, false), kBN, kPReLU, gen));
  if (keep) {
    out_025_ = register_module("out_025", std::make_shared<Conv2d>(w, cfg.classes, conv({3}), gen));
    out_05_ = register_module("out_05", std::make_shared<Conv2d>(n, cfg.classes, conv({3}), gen));
  }
  final_ = register_module("final", std::make_shared<Conv2d>(n, cfg.classes, conv({1}), gen));

  // The authors' initialisation: Xavier-normal conv weights, BatchNorm weights N(1, 0.02) (biases stay 0).
  for (auto& [name, t] : named_parameters()) {
    if (t.dim() == 4) {
      const double taps = static_cast<double>(t.size(2) * t.size(3));
      const double fan_in = static_cast<double>(t.size(1)) * taps, fan_out = static_cast<double>(t.size(0)) * taps;
      fill_normal(t, gen, 0.0, std::sqrt(2.0 / (fan_in + fan_out)));
    } else if (ends_with(name, "bn.weight")) {
      fill_normal(t, gen, 1.0, 0.02);
    }
  }
}

Tensor ENet::forward(const Tensor& x) const {
  SEG_CHECK(x.dim() == 4 && x.size(1) == cfg_.in_channels && x.size(2) % 8 == 0 && x.size(3) % 8 == 0,
            "ENet: input must be (N, ", cfg_.in_channels, ", H, W) with H and W multiples of 8 (three 2×2 pools), got ",
            x.describe());
  const Tensor init = cat({initial_->forward(x), max_pool2d(x, {2}, {2}).output}, 1);
  PoolResult d1 = stage1_[0]->forward_down(init);
  Tensor h = d1.output;
  for (size_t i = 1; i < stage1_.size(); ++i) h = stage1_[i]->forward(h);
  const Tensor s1 = h;
  PoolResult d2 = stage23_[0]->forward_down(h);
  h = d2.output;
  for (size_t i = 1; i < stage23_.size(); ++i) h = stage23_[i]->forward(h);

  Tensor u = max_unpool2d(h, d2.indices, {s1.size(2), s1.size(3)});
  h = up1_act_->forward(add(u, up1_->forward(cat({u, s1}, 1))));
  h = up1_b_->forward(up1_a_->forward(h));
  u = max_unpool2d(h, d1.indices, {init.size(2), init.size(3)});
  h = up2_act_->forward(add(u, up2_a_->forward(up2_->forward(cat({u, init}, 1)))));
  h = upsample_nearest2d(h, 2 * h.size(2), 2 * h.size(3));
  return final_->forward(head_b_->forward(head_a_->forward(h)));
}

}  // namespace seg
