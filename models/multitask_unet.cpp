// Multi-task U-Net of paper 4 (see multitask_unet.h).
#include "models/multitask_unet.h"

#include <algorithm>
#include <cctype>

#include "kernels/elementwise.h"
#include "kernels/pool.h"
#include "kernels/shape_ops.h"
#include "kernels/softmax.h"
#include "kernels/upsample.h"

namespace seg {

namespace {

struct VariantInfo {
  MultitaskVariant v;
  const char* key;
  const char* paper;
  AuxTask aux;
  bool two_decoders;
};
constexpr VariantInfo kVariants[] = {
    {MultitaskVariant::M, "m", "1Enc1Dec M", AuxTask::None, false},
    {MultitaskVariant::TwoDecMC, "2dec-mc", "1Enc2Dec MC", AuxTask::Contour, true},
    {MultitaskVariant::TwoDecMD, "2dec-md", "1Enc2Dec MD", AuxTask::Distance, true},
    {MultitaskVariant::ConvMC, "conv-mc", "1Enc1Dec+Conv MC", AuxTask::Contour, false},
    {MultitaskVariant::ConvMD, "conv-md", "1Enc1Dec+Conv MD", AuxTask::Distance, false},
};

const VariantInfo& info(MultitaskVariant v) {
  for (const auto& i : kVariants)
    if (i.v == v) return i;
  fail("multitask: unknown variant value ", static_cast<int>(v));
}

ConvSpec conv3x3(bool bias, Init init) { return {.kernel = {3}, .bias = bias, .init = init}; }

}  // namespace

MultitaskVariant parse_multitask_variant(const std::string& s) {
  std::string k = s;
  for (auto& c : k) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& i : kVariants)
    if (k == i.key) return i.v;
  fail("--variant: expected m, 2dec-mc, 2dec-md, conv-mc or conv-md, got '", s, "'");
}

const char* multitask_variant_key(MultitaskVariant v) { return info(v).key; }
const char* multitask_variant_paper(MultitaskVariant v) { return info(v).paper; }
AuxTask aux_task(MultitaskVariant v) { return info(v).aux; }
bool has_two_decoders(MultitaskVariant v) { return info(v).two_decoders; }

std::vector<MultitaskVariant> all_multitask_variants() {
  std::vector<MultitaskVariant> out;
  for (const auto& i : kVariants) out.push_back(i.v);
  return out;
}

DoubleConv::DoubleConv(int64_t in, int64_t out, const ConvSpec& conv, Generator& gen) {
  const NormSpec none{.kind = Norm::None};
  const ActSpec relu_act{.kind = Act::ReLU};
  c1_ = register_module("conv1", std::make_shared<ConvNormAct>(2, in, out, conv, none, relu_act, gen));
  c2_ = register_module("conv2", std::make_shared<ConvNormAct>(2, out, out, conv, none, relu_act, gen));
}

Tensor DoubleConv::forward(const Tensor& x) const { return c2_->forward(c1_->forward(x)); }

MultitaskDecoder::MultitaskDecoder(const std::vector<int64_t>& widths, const ConvSpec& conv, Generator& gen) {
  // Level i (0 = full resolution) takes [upsampled level i+1 (widths[i+1]), skip (widths[i])] to widths[i].
  // Registered deepest first, the order in which they run (and draw their initial weights).
  const size_t L = widths.size();
  blocks_.resize(L - 1);
  for (size_t i = L - 1; i-- > 0;)
    blocks_[i] = register_module("up" + std::to_string(i + 1),
                                 std::make_shared<DoubleConv>(widths[i + 1] + widths[i], widths[i], conv, gen));
}

Tensor MultitaskDecoder::forward(const std::vector<Tensor>& skips, const std::vector<int64_t>& up) const {
  Tensor h = skips.back();
  for (size_t i = blocks_.size(); i-- > 0;) {
    const double s = static_cast<double>(up[i]);
    h = blocks_[i]->forward(cat({upsample_nearest2d_scale(h, {s, s}), skips[i]}, 1));
  }
  return h;
}

MultitaskUNet::MultitaskUNet(const Config& cfg) : cfg_(cfg) {
  SEG_CHECK(cfg.in_channels > 0 && cfg.base_width > 0 && cfg.bottom_pool > 0, "MultitaskUNet: in_channels (",
            cfg.in_channels, "), base_width (", cfg.base_width, ") and bottom_pool (", cfg.bottom_pool,
            ") must be positive");
  Generator gen(cfg.seed);
  const ConvSpec conv = conv3x3(cfg.bias, cfg.init);
  const int64_t w = cfg.base_width;
  const std::vector<int64_t> widths{w, 2 * w, 4 * w, 8 * w, 16 * w};
  int64_t in = cfg.in_channels;
  for (size_t i = 0; i < widths.size(); ++i) {
    enc_.push_back(register_module("down" + std::to_string(i + 1), std::make_shared<DoubleConv>(in, widths[i], conv, gen)));
    in = widths[i];
  }
  const VariantInfo& v = info(cfg.variant);
  dec_ = register_module(v.two_decoders ? "decoder_mask" : "decoder", std::make_shared<MultitaskDecoder>(widths, conv, gen));
  if (v.two_decoders)
    dec2_ = register_module(v.aux == AuxTask::Contour ? "decoder_contour" : "decoder_distance",
                            std::make_shared<MultitaskDecoder>(widths, conv, gen));
  mask_head_ = register_module("mask_head", std::make_shared<Conv2d>(w, 2, conv, gen));
  if (v.aux == AuxTask::Contour) contour_head_ = register_module("contour_head", std::make_shared<Conv2d>(w, 2, conv, gen));
  if (v.aux == AuxTask::Distance) distance_head_ = register_module("distance_head", std::make_shared<Conv2d>(w, 1, conv, gen));
}

MultitaskUNet::Output MultitaskUNet::forward(const Tensor& x) const {
  const int64_t m = input_multiple();
  SEG_CHECK(x.dim() == 4 && x.size(1) == cfg_.in_channels && x.size(2) % m == 0 && x.size(3) % m == 0,
            "MultitaskUNet: input must be (N, ", cfg_.in_channels, ", H, W) with H and W multiples of ", m,
            " (three 2×2 pools and a ", cfg_.bottom_pool, "×", cfg_.bottom_pool, " one), got ", x.describe());
  const std::vector<int64_t> pools{2, 2, 2, cfg_.bottom_pool};
  std::vector<Tensor> feats;
  Tensor h = x;
  for (size_t i = 0; i < enc_.size(); ++i) {
    if (i > 0) h = max_pool2d(h, {pools[i - 1], pools[i - 1]}).output;
    h = enc_[i]->forward(h);
    feats.push_back(h);
  }
  Output out;
  const Tensor d = dec_->forward(feats, pools);
  out.mask = log_softmax(mask_head_->forward(d), 1);
  const Tensor d2 = dec2_ ? dec2_->forward(feats, pools) : d;
  if (contour_head_) out.contour = log_softmax(contour_head_->forward(d2), 1);
  if (distance_head_) out.distance = sigmoid(distance_head_->forward(d2));
  return out;
}

}  // namespace seg
