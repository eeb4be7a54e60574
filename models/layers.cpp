// Layer implementations (see layers.h).
#include "models/layers.h"

#include <cmath>

#include "kernels/coordconv.h"
#include "kernels/norm.h"

namespace seg {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, Generator& gen, int64_t stride, int64_t padding, bool has_bias,
               CoordSpec c, std::string padding_mode)
    : coord(c) {
  const int64_t cin = in + (c.enabled ? 2 : 0);
  Tensor w = Tensor::empty({out, cin, k, k});
  fill_normal(w, gen, 0.0, std::sqrt(2.0 / static_cast<double>(k * k * out)));
  weight = register_parameter("weight", w);
  if (has_bias) bias = register_parameter("bias", Tensor::zeros({out}));
  opt.stride = {stride};
  opt.padding = {padding < 0 ? k / 2 : padding};
  opt.padding_mode = std::move(padding_mode);
}

Tensor Conv2d::forward(const Tensor& x) const {
  if (!coord.enabled) return conv2d(x, weight, bias, opt);
  return coordconv2d(x, weight, bias, opt, coord.lo, coord.hi);  // fused: coordinate channels never materialised
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, Generator& gen, int64_t stride, int64_t padding,
                                 int64_t output_padding, bool has_bias, CoordSpec c)
    : coord(c) {
  const int64_t cin = in + (c.enabled ? 2 : 0);
  Tensor w = Tensor::empty({cin, out, k, k});
  fill_normal(w, gen, 0.0, std::sqrt(2.0 / static_cast<double>(k * k * out)));
  weight = register_parameter("weight", w);
  if (has_bias) bias = register_parameter("bias", Tensor::zeros({out}));
  opt.stride = {stride};
  opt.padding = {padding};
  opt.output_padding = {output_padding};
}

Tensor ConvTranspose2d::forward(const Tensor& x) const {
  if (!coord.enabled) return conv_transpose2d(x, weight, bias, opt);
  return coordconv_transpose2d(x, weight, bias, opt, coord.lo, coord.hi);
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
  weight = register_parameter("weight", Tensor::ones({c}));
  bias = register_parameter("bias", Tensor::zeros({c}));
}

Tensor GroupNorm::forward(const Tensor& x) const { return group_norm(x, groups, weight, bias, eps); }

}  // namespace seg
