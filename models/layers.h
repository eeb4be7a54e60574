// Building blocks shared by the models: convolutions and transposed convolutions in 2-D and 3-D (optionally
// CoordConv), BatchNorm, GroupNorm, activations, and the conv → norm → activation block most models are made of.
// Key decisions:
// - A layer is built from a spec filled by name (C++20 designated initialisers), never from positional flags:
//     Conv2d conv(in, out, {.kernel = {3}, .stride = {2}, .bias = false}, gen);
//   The fields of ConvSpec are in a fixed order (kernel, stride, padding, dilation, output_padding, bias,
//   padding_mode, coord, init); designated initialisers must follow it.
// - CoordConv is an option of the convolution layer (ConvSpec::coord), not a separate model copy: a layer with coord
//   enabled owns the extra coordinate weights and calls the fused CoordConv op (kernels/coordconv.h).
// - Initialisation is part of the spec, because the papers differ: He-normal on fan-out (the reference code of papers
//   1 and 5) or PyTorch's default (kaiming-uniform with a = √5 on weights and U(±1/√fan_in) on biases).
//   Parameters are drawn from the model's Generator in construction order, so a seed fixes every weight.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/module.h"
#include "engine/rng.h"
#include "kernels/conv.h"

namespace seg {

// Coordinate channels for CoordConv: none, or Y and X (3-D: Z, Y, X) in [lo, hi] (paper 1: [−1, 1]; paper 2: [0, λ]).
struct CoordSpec {
  bool enabled = false;
  double lo = -1.0, hi = 1.0;
};

// Paper 2's positional encoding: two coordinate channels in [0, λ] (λ·i/(W−1), λ·j/(H−1)) at a network's input conv;
// λ = 0 means none. Refuses a negative or non-finite λ, naming the option.
CoordSpec positional_encoding(double lambda);

enum class Init {
  HeNormalFanOut,  // weight ~ N(0, √(2 / (k^d · out))), bias 0
  PyTorchDefault,  // weight, bias ~ U(−1/√fan_in, 1/√fan_in); fan_in = weight.size(1)·k^d as PyTorch computes it
};

// Geometry and options of a convolution or transposed convolution. Vectors hold one value for every spatial dim or
// one per dim (ENet's 5×1 and 1×5 kernels, anisotropic 3-D strides).
struct ConvSpec {
  std::vector<int64_t> kernel{3};
  std::vector<int64_t> stride{1};
  std::vector<int64_t> padding{};          // empty: dilation·(k − 1)/2 per dim ("same" for odd k and stride 1)
  std::vector<int64_t> dilation{1};
  std::vector<int64_t> output_padding{0};  // transposed convolutions only
  bool bias = true;
  std::string padding_mode = "zeros";      // "zeros" or "reflect" (plain convolutions only)
  CoordSpec coord{};
  Init init = Init::HeNormalFanOut;
};

// One layer for the four kinds; Conv2d, Conv3d, ConvTranspose2d and ConvTranspose3d below fix the kind.
// Weight layout as PyTorch: (out, in [+ coord channels], k...) for convolutions, (in [+ coord], out, k...) for
// transposed ones.
class ConvLayer : public Module {
 public:
  ConvLayer(int spatial_dims, bool transposed, int64_t in, int64_t out, const ConvSpec& spec, Generator& gen);
  Tensor forward(const Tensor& x) const;
  int spatial_dims() const { return dims_; }
  bool transposed() const { return transposed_; }

  Tensor weight, bias;
  CoordSpec coord;
  ConvOptions opt;

 private:
  int dims_;
  bool transposed_;
};

struct Conv2d : ConvLayer {
  Conv2d(int64_t in, int64_t out, const ConvSpec& spec, Generator& gen) : ConvLayer(2, false, in, out, spec, gen) {}
};
struct Conv3d : ConvLayer {
  Conv3d(int64_t in, int64_t out, const ConvSpec& spec, Generator& gen) : ConvLayer(3, false, in, out, spec, gen) {}
};
struct ConvTranspose2d : ConvLayer {
  ConvTranspose2d(int64_t in, int64_t out, const ConvSpec& spec, Generator& gen) : ConvLayer(2, true, in, out, spec, gen) {}
};
struct ConvTranspose3d : ConvLayer {
  ConvTranspose3d(int64_t in, int64_t out, const ConvSpec& spec, Generator& gen) : ConvLayer(3, true, in, out, spec, gen) {}
};

// BatchNorm for (N, C, ...) inputs: batch statistics in training, running statistics in eval.
class BatchNorm : public Module {
 public:
  explicit BatchNorm(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias, running_mean, running_var;
  double momentum, eps;
};

// GroupNorm for (N, C, ...) inputs; C must be divisible by groups.
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  int64_t groups;
  double eps;
};

// GroupNorm's group count for `channels`: the largest divisor of channels not above max_groups (so GN(8) stays
// GN(8) at the papers' widths, and narrow CPU widths such as 4 channels get 4 groups instead of an error).
int64_t group_count(int64_t channels, int64_t max_groups);

enum class Act { None, ReLU, LeakyReLU, PReLU, Sigmoid };

struct ActSpec {
  Act kind = Act::ReLU;
  double negative_slope = 0.01;  // LeakyReLU's slope (PyTorch's default; the residual U-Net uses 0.2)
  int64_t prelu_weights = 1;     // PReLU: 1 shared slope (nn.PReLU()), C per channel, 0 = one per channel of the block
  double prelu_init = 0.25;
};

// An activation as a module, so PReLU's slope is a registered parameter. Parameter-free kinds hold nothing.
class Activation : public Module {
 public:
  explicit Activation(const ActSpec& spec);
  Tensor forward(const Tensor& x) const;
  Tensor weight;  // PReLU only
  ActSpec spec;
};
// The parameter-free activations as a function (Act::PReLU needs the module).
Tensor activate(const Tensor& x, const ActSpec& spec);

enum class Norm { None, Batch, Group };

struct NormSpec {
  Norm kind = Norm::Batch;
  int64_t groups = 8;  // GroupNorm only
  double eps = 1e-5;
  double momentum = 0.1;  // BatchNorm only
};

// conv → norm → activation, the block most models here are made of (2-D or 3-D).
class ConvNormAct : public Module {
 public:
  ConvNormAct(int spatial_dims, int64_t in, int64_t out, const ConvSpec& conv, const NormSpec& norm, const ActSpec& act,
              Generator& gen);
  Tensor forward(const Tensor& x) const;

 private:
  std::shared_ptr<ConvLayer> conv_;
  std::shared_ptr<BatchNorm> bn_;  // at most one of bn_ and gn_
  std::shared_ptr<GroupNorm> gn_;
  std::shared_ptr<Activation> act_;
};

}  // namespace seg
