// CUDA launchers of the elementwise family (kernels/elementwise.cu). Outputs are preallocated by the caller.
#pragma once
#include "engine/cuda_api.h"
#include "engine/tensor.h"
#include "kernels/elementwise_math.h"

namespace seg::cuda {
SEG_CUDA_API(void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y))
SEG_CUDA_API(void binary_grad(BinaryOp op, int which, const Tensor& a, const Tensor& b, const Tensor& g, Tensor& out))
SEG_CUDA_API(void sum_to_shape(const Tensor& g, Tensor& out))
SEG_CUDA_API(void unary_forward(UnaryOp op, const Tensor& x, Tensor& y, double p, double q))
SEG_CUDA_API(void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& g, Tensor& dx, double p, double q))
SEG_CUDA_API(void add_inplace(Tensor& acc, const Tensor& g))
}  // namespace seg::cuda
