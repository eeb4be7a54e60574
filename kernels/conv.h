// Convolutions (differentiable w.r.t. input, weight and bias), PyTorch semantics:
// conv2d/conv3d with stride, padding, dilation, zero or reflection padding; transposed 2-D/3-D with output_padding.
#pragma once
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace seg {

struct ConvOptions {
  std::vector<int64_t> stride{1};          // one value for every spatial dim, or one per dim
  std::vector<int64_t> padding{0};
  std::vector<int64_t> dilation{1};
  std::vector<int64_t> output_padding{0};  // transposed convolutions only
  std::string padding_mode = "zeros";      // "zeros" or "reflect" (plain convolutions only)
};

// weight: (C_out, C_in, k...) for conv; (C_in, C_out, k...) for transposed conv (as PyTorch). bias: (C_out) or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& opt = {});
Tensor conv3d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& opt = {});
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& opt = {});
Tensor conv_transpose3d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& opt = {});

}  // namespace seg
