// CUDA PReLU (kernels/prelu_cuda.h) with prelu_math.h's formulas; slope of element i: w[(i / S) % C] over the N·C
// planes of S values (C = 1 for a shared slope). The weight gradient is summed per plane in double (one block per
// plane, CUB), then per slope by a small kernel — the CPU's two-level order.
#include "kernels/cuda_util.cuh"
#include "kernels/prelu_cuda.h"

namespace seg::cuda {
namespace {

struct Planes {
  int64_t planes, C, S;
};
Planes planes_of(const Tensor& x, const Tensor& w) {
  if (x.dim() < 2) return {1, 1, x.numel()};
  const int64_t planes = x.size(0) * x.size(1);
  return {planes, w.numel() == 1 ? 1 : x.size(1), planes ? x.numel() / planes : 0};
}

template <class T>
__global__ void prelu_forward_kernel(const T* x, const T* w, T* y, int64_t n, int64_t S, int64_t C) {
  SEG_GRID_STRIDE(i, n) y[i] = ::seg::prelu_forward(x[i], w[(i / S) % C]);
}

template <class T>
__global__ void prelu_dx_kernel(const T* x, const T* w, const T* g, T* dx, int64_t n, int64_t S, int64_t C) {
  SEG_GRID_STRIDE(i, n) dx[i] = ::seg::prelu_dx(x[i], g[i], w[(i / S) % C]);
}

template <class T>
__global__ void prelu_plane_dw_kernel(const T* x, const T* g, int64_t planes, int64_t S, double* part) {
  __shared__ typename BlockSum::TempStorage tmp;
  for (int64_t q = blockIdx.x; q < planes; q += gridDim.x) {
    double acc = 0;
    for (int64_t i = threadIdx.x; i < S; i += blockDim.x)
      acc += static_cast<double>(::seg::prelu_dweight_term(x[q * S + i], g[q * S + i]));
    const double s = block_sum(acc, tmp);
    if (threadIdx.x == 0) part[q] = s;
  }
}

template <class T>
__global__ void prelu_slope_dw_kernel(const double* part, int64_t planes, int64_t C, T* dw) {
  SEG_GRID_STRIDE(c, C) {
    double acc = 0;
    for (int64_t q = c; q < planes; q += C) acc += part[q];
    dw[c] = static_cast<T>(acc);
  }
}

}  // namespace

void prelu_forward(const Tensor& x, const Tensor& weight, Tensor& y) {
  NvtxRange r("prelu");
  const Planes pl = planes_of(x, weight);
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_float(x.dtype(), "prelu (cuda)", [&](auto tag) {
    using T = decltype(tag);
    prelu_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), weight.data<T>(), y.data<T>(), n, pl.S, pl.C);
    SEG_LAUNCH_CHECK("prelu (cuda)");
  });
}

void prelu_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor& dx, Tensor& dweight) {
  NvtxRange r("prelu_backward");
  const char* op = "prelu backward (cuda)";
  const Planes pl = planes_of(x, weight);
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (dx.defined() && n > 0) {
      prelu_dx_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), weight.data<T>(), dy.data<T>(),
                                                                 dx.data<T>(), n, pl.S, pl.C);
      SEG_LAUNCH_CHECK(op);
    }
    if (dweight.defined()) {
      if (n == 0) {
        cuda_memset_zero(dweight.raw(), static_cast<size_t>(dweight.numel()) * sizeof(T));
        return;
      }
      DeviceBuffer part(static_cast<size_t>(pl.planes) * sizeof(double));
      prelu_plane_dw_kernel<T><<<grid_items(pl.planes), kThreads, 0, stream()>>>(x.data<T>(), dy.data<T>(), pl.planes,
                                                                                 pl.S, part.as<double>());
      SEG_LAUNCH_CHECK(op);
      prelu_slope_dw_kernel<T><<<grid_for(pl.C), kThreads, 0, stream()>>>(part.as<double>(), pl.planes, pl.C,
                                                                           dweight.data<T>());
      SEG_LAUNCH_CHECK(op);
    }
  });
}

}  // namespace seg::cuda
