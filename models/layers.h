// Building blocks shared by the models: convolutions (optionally CoordConv), transposed convolutions, BatchNorm,
// GroupNorm. Key decision: CoordConv is an option of the convolution layer, not a separate model copy — a layer with
// coord enabled owns the extra coordinate weights and calls the fused CoordConv op (kernels/coordconv.h).
#pragma once
#include <memory>

#include "engine/module.h"
#include "engine/rng.h"
#include "kernels/conv.h"

namespace seg {

// Coordinate channels for CoordConv: none, or Y and X in [lo, hi] (paper 1: [−1, 1]; paper 2: [0, λ]).
struct CoordSpec {
  bool enabled = false;
  double lo = -1.0, hi = 1.0;
};

// Weight init: He-normal N(0, sqrt(2 / (k·k·out))) as the shape-descriptor reference code; bias 0.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t k, Generator& gen, int64_t stride = 1, int64_t padding = -1, bool bias = true,
         CoordSpec coord = {}, std::string padding_mode = "zeros");
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  CoordSpec coord;
  ConvOptions opt;
};

// ConvTranspose2d with PyTorch's weight layout (in, out, k, k).
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in, int64_t out, int64_t k, Generator& gen, int64_t stride, int64_t padding,
                  int64_t output_padding, bool bias = true, CoordSpec coord = {});
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  CoordSpec coord;
  ConvOptions opt;
};

class BatchNorm : public Module {
 public:
  explicit BatchNorm(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;  // batch statistics in training, running statistics in eval
  Tensor weight, bias, running_mean, running_var;
  double momentum, eps;
};

class GroupNorm : public Module {
 public:
  GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  int64_t groups;
  double eps;
};

}  // namespace seg
