// Layer implementations (see layers.h).
#include "models/layers.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "kernels/coordconv.h"
#include "kernels/elementwise.h"
#include "kernels/norm.h"
#include "kernels/prelu.h"

namespace seg {

namespace {

// One value for every spatial dim, or one per dim → one per dim.
std::vector<int64_t> per_dim(const std::vector<int64_t>& v, int dims, const char* field) {
  SEG_CHECK(v.size() == 1 || v.size() == static_cast<size_t>(dims), "ConvSpec.", field, ": expected 1 or ", dims,
            " values, got ", v.size());
  return v.size() == 1 ? std::vector<int64_t>(dims, v[0]) : v;
}

}  // namespace

CoordSpec positional_encoding(double lambda) {
  SEG_CHECK(std::isfinite(lambda) && lambda >= 0, "positional encoding: lambda must be finite and >= 0 (0 = none), got ",
            lambda);
  return {.enabled = lambda > 0, .lo = 0.0, .hi = lambda};
}

ConvLayer::ConvLayer(int dims, bool transposed, int64_t in, int64_t out, const ConvSpec& s, Generator& gen)
    : coord(s.coord), dims_(dims), transposed_(transposed) {
  SEG_CHECK(dims == 2 || dims == 3, "ConvLayer: spatial_dims must be 2 or 3, got ", dims);
  SEG_CHECK(in > 0 && out > 0, "ConvLayer: in and out channels must be positive, got ", in, " and ", out);
  SEG_CHECK(!(s.coord.enabled && transposed && dims == 3), "ConvTranspose3d: CoordConv is not available in 3-D");
  SEG_CHECK(!(transposed && s.padding_mode != "zeros"), "ConvTranspose: padding_mode must be \"zeros\", got \"",
            s.padding_mode, "\"");
  const std::vector<int64_t> k = per_dim(s.kernel, dims, "kernel");
  const std::vector<int64_t> dil = per_dim(s.dilation, dims, "dilation");
  int64_t taps = 1;
  for (int64_t v : k) {
    SEG_CHECK(v > 0, "ConvSpec.kernel: sizes must be positive");
    taps *= v;
  }
  const int64_t cin = in + (s.coord.enabled ? dims : 0);
  Shape wshape = transposed ? Shape{cin, out} : Shape{out, cin};
  for (int64_t v : k) wshape.push_back(v);
  Tensor w = Tensor::empty(wshape);
  Tensor b;
  if (s.init == Init::HeNormalFanOut) {
    fill_normal(w, gen, 0.0, std::sqrt(2.0 / static_cast<double>(taps * out)));
    if (s.bias) b = Tensor::zeros({out});
  } else {  // PyTorch's default: kaiming_uniform_(a=√5) gives bound 1/√fan_in; fan_in = weight.size(1)·taps
    const double bound = 1.0 / std::sqrt(static_cast<double>(wshape[1] * taps));
    fill_uniform(w, gen, -bound, bound);
    if (s.bias) {
      b = Tensor::empty({out});
      fill_uniform(b, gen, -bound, bound);
    }
  }
  weight = register_parameter("weight", w);
  if (s.bias) bias = register_parameter("bias", b);
  opt.stride = s.stride;
  if (s.padding.empty()) {
    opt.padding.resize(dims);
    for (int d = 0; d < dims; ++d) opt.padding[d] = dil[d] * (k[d] - 1) / 2;
  } else {
    opt.padding = s.padding;
  }
  opt.dilation = s.dilation;
  opt.output_padding = s.output_padding;
  opt.padding_mode = s.padding_mode;
}

Tensor ConvLayer::forward(const Tensor& x) const {
  // CoordConv is fused: the coordinate channels are never materialised.
  if (dims_ == 2) {
    if (transposed_)
      return coord.enabled ? coordconv_transpose2d(x, weight, bias, opt, coord.lo, coord.hi)
                           : conv_transpose2d(x, weight, bias, opt);
    return coord.enabled ? coordconv2d(x, weight, bias, opt, coord.lo, coord.hi) : conv2d(x, weight, bias, opt);
  }
  if (transposed_) return conv_transpose3d(x, weight, bias, opt);
  return coord.enabled ? coordconv3d(x, weight, bias, opt, coord.lo, coord.hi) : conv3d(x, weight, bias, opt);
}

BatchNorm::BatchNorm(int64_t c, double m, double e) : momentum(m), eps(e) {
  weight = register_parameter("weight", Tensor::ones({c}));
  bias = register_parameter("bias", Tensor::zeros({c}));
  running_mean = register_buffer("running_mean", Tensor::zeros({c}));
  running_var = register_buffer("running_var", Tensor::ones({c}));
}

Tensor BatchNorm::forward(const Tensor& x) const {
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

GroupNorm::GroupNorm(int64_t g, int64_t c, double e) : groups(g), eps(e) {
  SEG_CHECK(g > 0 && c % g == 0, "GroupNorm: channels (", c, ") must be divisible by groups (", g, ")");
  weight = register_parameter("weight", Tensor::ones({c}));
  bias = register_parameter("bias", Tensor::zeros({c}));
}

int64_t group_count(int64_t channels, int64_t max_groups) {
  SEG_CHECK(channels > 0 && max_groups > 0, "group_count: channels (", channels, ") and max_groups (", max_groups,
            ") must be positive");
  for (int64_t g = std::min(channels, max_groups); g > 1; --g)
    if (channels % g == 0) return g;
  return 1;
}

Tensor GroupNorm::forward(const Tensor& x) const { return group_norm(x, groups, weight, bias, eps); }

Tensor activate(const Tensor& x, const ActSpec& a) {
  switch (a.kind) {
    case Act::None: return x;
    case Act::ReLU: return relu(x);
    case Act::LeakyReLU: return leaky_relu(x, a.negative_slope);
    case Act::Sigmoid: return sigmoid(x);
    case Act::PReLU: break;
  }
  fail("activate: PReLU has a learnable slope; use the Activation module");
}

Activation::Activation(const ActSpec& s) : spec(s) {
  if (s.kind == Act::PReLU) {
    SEG_CHECK(s.prelu_weights > 0, "Activation: PReLU needs at least one slope, got ", s.prelu_weights,
              " (0 = one per channel is resolved by ConvNormAct, which knows the channel count)");
    weight = register_parameter("weight", Tensor::full({s.prelu_weights}, s.prelu_init));
  }
}

Tensor Activation::forward(const Tensor& x) const {
  return spec.kind == Act::PReLU ? prelu(x, weight) : activate(x, spec);
}

ConvNormAct::ConvNormAct(int dims, int64_t in, int64_t out, const ConvSpec& conv, const NormSpec& norm,
                         const ActSpec& act, Generator& gen) {
  conv_ = register_module("conv", std::make_shared<ConvLayer>(dims, false, in, out, conv, gen));
  if (norm.kind == Norm::Batch) bn_ = register_module("bn", std::make_shared<BatchNorm>(out, norm.momentum, norm.eps));
  if (norm.kind == Norm::Group) gn_ = register_module("gn", std::make_shared<GroupNorm>(norm.groups, out, norm.eps));
  ActSpec a = act;
  if (a.kind == Act::PReLU && a.prelu_weights == 0) a.prelu_weights = out;
  act_ = register_module("act", std::make_shared<Activation>(a));
}

Tensor ConvNormAct::forward(const Tensor& x) const {
  Tensor h = conv_->forward(x);
  if (bn_) h = bn_->forward(h);
  if (gn_) h = gn_->forward(h);
  return act_->forward(h);
}

}  // namespace seg
