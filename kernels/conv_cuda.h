// CUDA launchers of the convolution family (kernels/conv.cu): cuDNN by default, a hand-written path selectable.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/conv_geom.h"

namespace seg::cuda {
// Plain convolution: y (N, Cout, OD, OH, OW) from x (N, C, D, H, W) viewed through g.
SEG_CUDA_API(void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g))
// Any of dx, dw, db may be undefined (not needed). dw/db are overwritten.
SEG_CUDA_API(void conv_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                                const ConvGeom& g))
// Transposed: y (N, Cout, image grid of g) from x (N, Cin, column grid of g); w (Cin, Cout, k...).
SEG_CUDA_API(void conv_transpose_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g))
SEG_CUDA_API(void conv_transpose_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                                          Tensor& db, const ConvGeom& g))
}  // namespace seg::cuda
