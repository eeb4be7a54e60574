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
Tensor activate(const Tensor& x, int act) {
  if (act == 1) return relu(x);
  if (act == 2) return leaky_relu(x, 0.2);
  return x;
}
CoordSpec coord_if(bool on) {
  CoordSpec c;
  c.enabled = on;
  return c;
}
}  // namespace

ConvBnAct::ConvBnAct(int64_t in, int64_t out, int act, bool coord, Generator& gen) : act_(act) {
  conv_ = register_module("conv", std::make_shared<Conv2d>(in, out, 3, gen, 1, 1, true, coord_if(coord)));
  bn_ = register_module("bn", std::make_shared<BatchNorm>(out));
}

Tensor ConvBnAct::forward(const Tensor& x) const { return activate(bn_->forward(conv_->forward(x)), act_); }

ResidualBlock::ResidualBlock(int64_t in, int64_t out, int act, bool coord_first, bool coord_rest, Generator& gen) {
  c1_ = register_module("conv1", std::make_shared<ConvBnAct>(in, out, act, coord_first, gen));
  c2a_ = register_module("conv2a", std::make_shared<ConvBnAct>(out, out, act, coord_rest, gen));
  c2b_ = register_module("conv2b", std::make_shared<ConvBnAct>(out, out, act, coord_rest, gen));
  c2c_ = register_module("conv2c", std::make_shared<ConvBnAct>(out, out, 0, coord_rest, gen));
  out_ = register_module("conv3", std::make_shared<ConvBnAct>(out, out, act, coord_rest, gen));
}

Tensor ResidualBlock::forward(const Tensor& x) const {
  Tensor c1 = c1_->forward(x);
  Tensor c2 = c2c_->forward(c2b_->forward(c2a_->forward(c1)));
  return out_->forward(add(c1, c2));
}

ResidualUNet::ResidualUNet(int64_t in_channels, int64_t classes, CoordPlacement coord, uint64_t seed, int64_t w)
    : coord_(coord) {
  Generator gen(seed);
  const bool enc = coord == CoordPlacement::Encoder || coord == CoordPlacement::All;
  const bool all = coord == CoordPlacement::All;
  const int64_t widths[4] = {w, 2 * w, 4 * w, 8 * w};
  int64_t in = in_channels;
  for (int i = 0; i < 4; ++i) {
    const bool first = (i == 0 && coord == CoordPlacement::First) || enc;
    down_.push_back(register_module("down" + std::to_string(i + 1),
                                    std::make_shared<ResidualBlock>(in, widths[i], 2, first, enc, gen)));
    in = widths[i];
  }
  bridge_ = register_module("bridge", std::make_shared<ResidualBlock>(in, 16 * w, 2, enc, enc, gen));
  in = 16 * w;
  for (int i = 3; i >= 0; --i) {
    const std::string id = std::to_string(4 - i);
    deconv_.push_back(register_module("deconv" + id, std::make_shared<ConvTranspose2d>(in, widths[i], 3, gen, 2, 1, 1, true,
                                                                                        coord_if(all))));
    deconv_bn_.push_back(register_module("deconv" + id + "_bn", std::make_shared<BatchNorm>(widths[i])));
    up_.push_back(register_module("up" + id, std::make_shared<ResidualBlock>(widths[i], widths[i], 1, all, all, gen)));
    in = widths[i];
  }
  head_ = register_module("head", std::make_shared<Conv2d>(w, classes, 3, gen, 1, 1, true, coord_if(all)));
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
