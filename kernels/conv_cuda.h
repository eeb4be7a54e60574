// CUDA launchers of the convolution family (kernels/conv.cu): cuDNN by default, a hand-written path selectable.
#pragma once
#include <cstdint>
#include <string>

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

// Which convolution path runs, for tests and reports (tests/cuda asserts it; profiling/gpu_check.sh prints it).
SEG_CUDA_API(bool cudnn_built())              // compiled with cuDNN (SEG_WITH_CUDNN)
SEG_CUDA_API(bool cudnn_selected())           // built and not switched off by SEG_CONV_IMPL=im2col
SEG_CUDA_API(int64_t cudnn_conv_calls())      // cuDNN convolution calls that ran (forward, backward data, backward filter)
// Calls meant for cuDNN that ran im2col instead: no cuDNN algorithm worked, or a tensor beyond the 32-bit descriptors.
SEG_CUDA_API(int64_t cudnn_conv_fallbacks())
SEG_CUDA_API(std::string conv_path())         // e.g. "cuDNN 9.19.0 (library loaded: 9.19.0, math FP32 FMA); ..."
}  // namespace seg::cuda
