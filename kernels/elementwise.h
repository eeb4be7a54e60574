// Elementwise ops (differentiable): arithmetic with NumPy broadcasting, activations, scalar ops.
#pragma once
#include "engine/tensor.h"
#include "kernels/elementwise_math.h"

namespace seg {

// Binary ops broadcast like NumPy (trailing dimensions aligned; size-1 dims stretch); b may also be a 0-d scalar.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor scale(const Tensor& x, double s);
Tensor add_scalar(const Tensor& x, double s);
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor unary(UnaryOp op, const Tensor& x, double p = 0, double q = 0);

// Not differentiable: acc += g (same shape), used to accumulate gradients.
void add_inplace(Tensor& acc, const Tensor& g);
// Not differentiable: sums `g` down to `shape` (the reverse of broadcasting).
Tensor sum_to_shape(const Tensor& g, const Shape& shape);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace seg
