// CUDA launchers of fused CoordConv (kernels/coordconv.cu). The image part is the ordinary convolution; these add and
// differentiate the coordinate part (kernels/coordconv_math.h: CoordGeom, coord_map_at, coord_weight_grad_at).
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/coordconv_math.h"

namespace seg::cuda {
// In place: y[n, co, pixel] += bias[co] + M[co, pixel] for y (N, C_out, output grid of g); wc holds the coordinate
// weights (layout in g.w_so / g.w_sc); bias may be undefined.
SEG_CUDA_API(void coordconv_add(Tensor& y, const Tensor& wc, const Tensor& bias, const CoordGeom& g))
// From dy (N, C_out, output grid): dwc (shape of wc) and db (C_out), overwritten; either may be undefined.
SEG_CUDA_API(void coordconv_grad(const Tensor& dy, Tensor& dwc, Tensor& db, const CoordGeom& g))
}  // namespace seg::cuda
