// Fused CoordConv (paper 1; paper 2's positional encoding with coord range [0, λ]), differentiable w.r.t. input,
// weight and bias. Exactly conv(cat([x, Y, X], 1), weight, bias) (3-D: cat([x, Z, Y, X])) with
// Y[i, j] = lo + (hi − lo)·i/(H − 1), X[i, j] = lo + (hi − lo)·j/(W − 1) on the input grid (a length-1 axis has the
// single coordinate lo), padded like the image channels (zeros: coordinate 0 outside; reflect: mirrored coordinates).
// Key decision: the coordinate channels are never materialised. The weight is split into its image part (the ordinary
// convolution, im2col + GEMM) and its coordinate part, whose contribution depends only on position and is added in
// closed form together with the bias (kernels/coordconv_math.h); its weight gradient is a cheap reduction of Σ_n dy.
#pragma once
#include "engine/tensor.h"
#include "kernels/conv.h"

namespace seg {

// x (N, C_in, H, W); weight (C_out, C_in + 2, kh, kw); bias (C_out) or undefined. opt: as conv2d (zeros or reflect).
Tensor coordconv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& opt = {},
                   double coord_lo = -1.0, double coord_hi = 1.0);
// x (N, C_in, H, W); weight (C_in + 2, C_out, kh, kw) as conv_transpose2d; coordinates on the input's grid.
Tensor coordconv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                             const ConvOptions& opt = {}, double coord_lo = -1.0, double coord_hi = 1.0);
// x (N, C_in, D, H, W); weight (C_out, C_in + 3, kd, kh, kw); channels Z (along D), Y, X.
Tensor coordconv3d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& opt = {},
                   double coord_lo = -1.0, double coord_hi = 1.0);

}  // namespace seg
