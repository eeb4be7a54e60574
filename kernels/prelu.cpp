// PReLU on the CPU and its autograd wiring (formulas in prelu_math.h), with a per-plane slope. Viewed as
// (N, C, S) planes: parallel over the N·C planes, the weight gradient summed per plane in double and then per slope.
#include "kernels/prelu.h"

#include <algorithm>
#include <vector>

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/prelu_cuda.h"
#include "kernels/prelu_math.h"

namespace seg {

namespace {

struct Planes {
  int64_t planes, C, S;  // slope of plane q: w[q % C]; C = 1 with a shared slope (planes are still N·C, so the
                         // work splits across threads either way)
};

Planes planes_of(const Tensor& x, const Tensor& w) {
  if (x.dim() < 2) return {1, 1, x.numel()};
  const int64_t planes = x.size(0) * x.size(1);
  return {planes, w.numel() == 1 ? 1 : x.size(1), planes ? x.numel() / planes : 0};
}

template <class T>
void forward_cpu(const T* x, const T* w, T* y, const Planes& pl) {
#pragma omp parallel for if (pl.planes * pl.S > kParallelGrain)
  for (int64_t q = 0; q < pl.planes; ++q) {
    const T a = w[q % pl.C];
    const T* xp = x + q * pl.S;
    T* yp = y + q * pl.S;
    for (int64_t i = 0; i < pl.S; ++i) yp[i] = prelu_forward(xp[i], a);
  }
}

template <class T>
void backward_cpu(const T* x, const T* w, const T* g, T* dx, T* dw, const Planes& pl) {
  std::vector<double> part(static_cast<size_t>(pl.planes), 0.0);
#pragma omp parallel for if (pl.planes * pl.S > kParallelGrain)
  for (int64_t q = 0; q < pl.planes; ++q) {
    const T a = w[q % pl.C];
    const T* xp = x + q * pl.S;
    const T* gp = g + q * pl.S;
    if (dx) {
      T* dp = dx + q * pl.S;
      for (int64_t i = 0; i < pl.S; ++i) dp[i] = prelu_dx(xp[i], gp[i], a);
    }
    if (dw) {
      // Blocks of 512 summed in T (a loop GCC vectorises), the blocks in double.
      double s = 0;
      for (int64_t i0 = 0; i0 < pl.S; i0 += 512) {
        const int64_t i1 = std::min<int64_t>(pl.S, i0 + 512);
        T b = 0;
        for (int64_t i = i0; i < i1; ++i) b += prelu_dweight_term(xp[i], gp[i]);
        s += b;
      }
      part[static_cast<size_t>(q)] = s;
    }
  }
  if (dw) {
    std::vector<double> acc(static_cast<size_t>(pl.C), 0.0);
    for (int64_t q = 0; q < pl.planes; ++q) acc[static_cast<size_t>(q % pl.C)] += part[static_cast<size_t>(q)];
    for (int64_t c = 0; c < pl.C; ++c) dw[c] = static_cast<T>(acc[static_cast<size_t>(c)]);
  }
}

}  // namespace

Tensor prelu(const Tensor& x, const Tensor& weight) {
  const char* op = "prelu";
  check_float(x, op, "input");
  check_float(weight, op, "weight");
  check_same_dtype_device(x, weight, op);
  SEG_CHECK(weight.dim() <= 1, op, ": weight must be 1-D, got ", weight.describe());
  if (weight.numel() != 1)
    SEG_CHECK(x.dim() >= 2 && weight.numel() == x.size(1), op, ": weight has ", weight.numel(),
              " elements, expected 1 or the number of channels of the input ", x.describe());
  const Planes pl = planes_of(x, weight);
  Tensor y = empty_like(x);
  on_device(
      x, op, [&] { cuda::prelu_forward(x, weight, y); },
      [&](auto tag) {
        using T = decltype(tag);
        forward_cpu(x.data<T>(), weight.data<T>(), y.data<T>(), pl);
      });
  return record(op, y, {x, weight}, [&] {
    return [xs = x.detach(), w = weight.detach(), pl, need_x = input_needs_grad(x), need_w = input_needs_grad(weight),
            op](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = grad_buffer(need_x, xs.shape(), g), dw = grad_buffer(need_w, w.shape(), g);
      on_device(
          g, op, [&] { cuda::prelu_backward(xs, w, g, dx, dw); },
          [&](auto tag) {
            using T = decltype(tag);
            backward_cpu(xs.data<T>(), w.data<T>(), g.data<T>(), opt_data<T>(dx), opt_data<T>(dw), pl);
          });
      return {dx, dw};
    };
  });
}

}  // namespace seg
