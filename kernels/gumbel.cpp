// Gumbel-softmax: the noise and the one-hot argmax are kernels here; the soft sample composes engine ops
// (add, scale, softmax); the hard sample is a straight-through node (forward: one-hot; backward: identity to soft).
#include "kernels/gumbel.h"

#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/gumbel_cuda.h"
#include "kernels/op_util.h"
#include "kernels/softmax.h"

namespace seg {

Tensor gumbel_noise(const Shape& shape, Generator& gen, DType dtype, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  const int64_t n = out.numel();
  const uint64_t seed = gen.seed(), offset = gen.reserve(static_cast<uint64_t>(n));
  on_device(
      out, "gumbel_noise", [&] { cuda::gumbel_noise(out, seed, offset); },
      [&](auto tag) {
        using T = decltype(tag);
        T* p = out.data<T>();
#pragma omp parallel for if (n > kParallelGrain)
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(gumbel_at(seed, offset, static_cast<uint64_t>(i)));
      });
  return out;
}

Tensor one_hot_argmax(const Tensor& x, int64_t dim) {
  check_float(x, "one_hot_argmax", "input");
  const int64_t nd = x.dim();
  if (dim < 0) dim += nd;
  SEG_CHECK(dim >= 0 && dim < nd, "one_hot_argmax: dim out of range for ", x.describe());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.size(d);
  for (int64_t d = dim + 1; d < nd; ++d) inner *= x.size(d);
  const int64_t size = x.size(dim);
  Tensor y = empty_like(x);
  on_device(
      x, "one_hot_argmax", [&] { cuda::one_hot_argmax(x, y, outer, size, inner); },
      [&](auto tag) {
        using T = decltype(tag);
        const T* p = x.data<T>();
        T* q = y.data<T>();
#pragma omp parallel for if (outer * inner * size > kParallelGrain)
        for (int64_t oi = 0; oi < outer * inner; ++oi) {
          const int64_t o = oi / inner, i = oi % inner;
          const T* src = p + o * size * inner + i;
          T* dst = q + o * size * inner + i;
          int64_t best = 0;
          for (int64_t s = 1; s < size; ++s)
            if (src[s * inner] > src[best * inner]) best = s;
          for (int64_t s = 0; s < size; ++s) dst[s * inner] = s == best ? T(1) : T(0);
        }
      });
  return y;
}

Tensor gumbel_softmax_with_noise(const Tensor& logits, const Tensor& noise, double tau, bool hard, int64_t dim) {
  const char* op = "gumbel_softmax";
  check_float(logits, op, "logits");
  check_float(noise, op, "noise");
  check_same_dtype_device(logits, noise, op);
  check_same_shape(logits, noise, op);
  SEG_CHECK(tau > 0, op, ": tau must be positive, got ", tau);
  const Tensor soft = softmax(scale(add(logits, noise.detach()), 1.0 / tau), dim);
  if (!hard) return soft;
  Tensor y = one_hot_argmax(soft.detach(), dim);
  return record("gumbel_softmax_hard", y, {soft},
                [] { return [](const Tensor& g) -> std::vector<Tensor> { return {g}; }; });
}

Tensor gumbel_softmax(const Tensor& logits, double tau, bool hard, Generator& gen, int64_t dim) {
  check_float(logits, "gumbel_softmax", "logits");
  return gumbel_softmax_with_noise(logits, gumbel_noise(logits.shape(), gen, logits.dtype(), logits.device()), tau, hard,
                                   dim);
}

}  // namespace seg
