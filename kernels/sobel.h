// Sobel gradients (differentiable w.r.t. the input) and the edge map of one-hot masks (paper 3's edge ground truth,
// made on the fly). Exact definitions: docs/opcheck-format.md (sobel2d, sobel3d): fixed depthwise 3×3(×3)
// filters, zero padding 1, correlation as torch's conv; channel order per input channel [gy, gx] / [gz, gy, gx].
#pragma once
#include "engine/tensor.h"

namespace seg {

Tensor sobel2d(const Tensor& x);  // (N, C, H, W) → (N, 2C, H, W): channel 2c = gy of c, 2c + 1 = gx of c
Tensor sobel3d(const Tensor& x);  // (N, C, D, H, W) → (N, 3C, D, H, W): [gz, gy, gx] of c at 3c, 3c + 1, 3c + 2

// Not differentiable: 1 where the Sobel gradient of the channel is non-zero (any component), else 0; same shape as
// the input (N, K, H, W) or (N, K, D, H, W). On a one-hot mask this marks both sides of every class boundary and,
// as the zero padding makes the outside 0, a class's pixels on the image border.
Tensor edge_map(const Tensor& onehot);

}  // namespace seg
