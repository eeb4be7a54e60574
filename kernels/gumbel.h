// Gumbel-softmax (paper 3's dual-task loss): soft = softmax((logits + g)/τ) along `dim` with Gumbel noise g; hard =
// the one-hot of its argmax in the forward pass with the soft sample's gradient (straight-through estimator).
// Key decision: the noise is drawn from the engine's counter-based generator (kernels/gumbel_math.h), so CPU and CUDA
// draw the same sample; the variant taking explicit noise makes the op deterministic for gradient checks.
#pragma once
#include "engine/rng.h"
#include "engine/tensor.h"

namespace seg {

// Noise of `shape`: −log(−log u), u ~ U(0, 1) from gen (advances it).
Tensor gumbel_noise(const Shape& shape, Generator& gen, DType dtype = DType::Float32, Device device = Device::CPU);

Tensor gumbel_softmax(const Tensor& logits, double tau, bool hard, Generator& gen, int64_t dim = 1);
// The same with the noise given (shape of logits; not differentiated).
Tensor gumbel_softmax_with_noise(const Tensor& logits, const Tensor& noise, double tau, bool hard, int64_t dim = 1);

// Not differentiable: 1 at the (first) maximum along dim, 0 elsewhere.
Tensor one_hot_argmax(const Tensor& x, int64_t dim);

}  // namespace seg
