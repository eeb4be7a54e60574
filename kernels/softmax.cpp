// Softmax / log-softmax. Math: y_i = exp(x_i − m) / Σ_j exp(x_j − m) with m = max x (stable);
// backward: softmax dx = y ⊙ (g − Σ g⊙y); log-softmax dx = g − exp(y) Σ g. Only the output is saved.
#include "kernels/softmax.h"

#include <cmath>

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/softmax_cuda.h"

namespace seg {

namespace {

template <class T>
void forward_cpu(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
#pragma omp parallel for collapse(2) if (outer * inner * n > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* xp = x + o * n * inner + i;
      T* yp = y + o * n * inner + i;
      T m = xp[0];
      for (int64_t k = 1; k < n; ++k) m = xp[k * inner] > m ? xp[k * inner] : m;
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += std::exp(static_cast<double>(xp[k * inner] - m));
      if (log) {
        const double ls = std::log(s);
        for (int64_t k = 0; k < n; ++k) yp[k * inner] = static_cast<T>(xp[k * inner] - m - ls);
      } else {
        const double inv = 1.0 / s;
        for (int64_t k = 0; k < n; ++k) yp[k * inner] = static_cast<T>(std::exp(static_cast<double>(xp[k * inner] - m)) * inv);
      }
    }
}

template <class T>
void backward_cpu(const T* y, const T* g, T* dx, int64_t outer, int64_t n, int64_t inner, bool log) {
#pragma omp parallel for collapse(2) if (outer * inner * n > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      double s = 0;
      if (log) {
        for (int64_t k = 0; k < n; ++k) s += g[base + k * inner];
        for (int64_t k = 0; k < n; ++k) dx[base + k * inner] = static_cast<T>(g[base + k * inner] - std::exp(static_cast<double>(y[base + k * inner])) * s);
      } else {
        for (int64_t k = 0; k < n; ++k) s += static_cast<double>(g[base + k * inner]) * y[base + k * inner];
        for (int64_t k = 0; k < n; ++k) dx[base + k * inner] = static_cast<T>(y[base + k * inner] * (g[base + k * inner] - s));
      }
    }
}

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  check_float(x, op, "input");
  const int64_t nd = x.dim();
  if (dim < 0) dim += nd;
  SEG_CHECK(dim >= 0 && dim < nd, op, ": dim out of range for ", x.describe());
  int64_t outer = 1, inner = 1;
  const int64_t n = x.shape()[static_cast<size_t>(dim)];
  for (int64_t i = 0; i < dim; ++i) outer *= x.shape()[static_cast<size_t>(i)];
  for (int64_t i = dim + 1; i < nd; ++i) inner *= x.shape()[static_cast<size_t>(i)];
  Tensor y = empty_like(x);
  on_device(
      x, op, [&] { cuda::softmax_forward(x, y, outer, n, inner, log); },
      [&](auto tag) {
        using T = decltype(tag);
        forward_cpu(x.data<T>(), y.data<T>(), outer, n, inner, log);
      });
  return record(op, y, {x}, [&] {
    return [ys = y.detach(), outer, n, inner, log, op](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = empty_like(g);
      on_device(
          g, op, [&] { cuda::softmax_backward(ys, g, dx, outer, n, inner, log); },
          [&](auto tag) {
            using T = decltype(tag);
            backward_cpu(ys.data<T>(), g.data<T>(), dx.data<T>(), outer, n, inner, log);
          });
      return {dx};
    };
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, true); }

}  // namespace seg
