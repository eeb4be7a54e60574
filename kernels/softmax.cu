// CUDA softmax / log-softmax (kernels/softmax_cuda.h) over a (outer, n, inner) view, with the CPU's formulas:
// y = exp(x − max − log Σ exp(x − max)) (log) or exp(x − max)/Σ; backward dx = y(g − Σ g·y) or g − exp(y)·Σ g.
// Key decision: two launch shapes. inner = 1 (the softmax axis is contiguous): one block per row, CUB block
// reductions for the max and the sum. inner > 1 (channels of an image, the common case here): one thread per
// (outer, inner) column looping over the n classes — neighbouring threads read neighbouring pixels, so it is coalesced.
#include "kernels/cuda_util.cuh"
#include "kernels/softmax_cuda.h"

namespace seg::cuda {
namespace {

struct MaxOp {
  __device__ __forceinline__ double operator()(double a, double b) const { return b > a ? b : a; }
};

template <class T>
__global__ void softmax_cols_kernel(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  SEG_GRID_STRIDE(j, outer * inner) {
    const int64_t o = j / inner, i = j - o * inner;
    const T* xp = x + o * n * inner + i;
    T* yp = y + o * n * inner + i;
    T m = xp[0];
    for (int64_t k = 1; k < n; ++k) m = xp[k * inner] > m ? xp[k * inner] : m;
    double s = 0;
    for (int64_t k = 0; k < n; ++k) s += ::exp(static_cast<double>(xp[k * inner] - m));
    if (log) {
      const double ls = ::log(s);
      for (int64_t k = 0; k < n; ++k) yp[k * inner] = static_cast<T>(xp[k * inner] - m - ls);
    } else {
      const double inv = 1.0 / s;
      for (int64_t k = 0; k < n; ++k) yp[k * inner] = static_cast<T>(::exp(static_cast<double>(xp[k * inner] - m)) * inv);
    }
  }
}

template <class T>
__global__ void softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  __shared__ typename BlockSum::TempStorage tmp;
  __shared__ double shared_m, shared_s;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xp = x + row * n;
    T* yp = y + row * n;
    double m = -INFINITY;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) m = MaxOp()(m, static_cast<double>(xp[k]));
    __syncthreads();
    const double bm = BlockSum(tmp).Reduce(m, MaxOp());
    if (threadIdx.x == 0) shared_m = bm;
    __syncthreads();
    const T mt = static_cast<T>(shared_m);
    double s = 0;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += ::exp(static_cast<double>(xp[k] - mt));
    const double bs = block_sum(s, tmp);
    if (threadIdx.x == 0) shared_s = bs;
    __syncthreads();
    const double tot = shared_s;
    if (log) {
      const double ls = ::log(tot);
      for (int64_t k = threadIdx.x; k < n; k += blockDim.x) yp[k] = static_cast<T>(xp[k] - mt - ls);
    } else {
      const double inv = 1.0 / tot;
      for (int64_t k = threadIdx.x; k < n; k += blockDim.x) yp[k] = static_cast<T>(::exp(static_cast<double>(xp[k] - mt)) * inv);
    }
  }
}

template <class T>
__global__ void softmax_back_cols_kernel(const T* y, const T* g, T* dx, int64_t outer, int64_t n, int64_t inner, bool log) {
  SEG_GRID_STRIDE(j, outer * inner) {
    const int64_t o = j / inner, i = j - o * inner;
    const int64_t base = o * n * inner + i;
    double s = 0;
    if (log) {
      for (int64_t k = 0; k < n; ++k) s += g[base + k * inner];
      for (int64_t k = 0; k < n; ++k)
        dx[base + k * inner] = static_cast<T>(g[base + k * inner] - ::exp(static_cast<double>(y[base + k * inner])) * s);
    } else {
      for (int64_t k = 0; k < n; ++k) s += static_cast<double>(g[base + k * inner]) * y[base + k * inner];
      for (int64_t k = 0; k < n; ++k) dx[base + k * inner] = static_cast<T>(y[base + k * inner] * (g[base + k * inner] - s));
    }
  }
}

template <class T>
__global__ void softmax_back_rows_kernel(const T* y, const T* g, T* dx, int64_t rows, int64_t n, bool log) {
  __shared__ typename BlockSum::TempStorage tmp;
  __shared__ double shared_s;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* yp = y + row * n;
    const T* gp = g + row * n;
    T* dp = dx + row * n;
    double s = 0;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += log ? static_cast<double>(gp[k]) : static_cast<double>(gp[k]) * yp[k];
    const double bs = block_sum(s, tmp);
    if (threadIdx.x == 0) shared_s = bs;
    __syncthreads();
    const double tot = shared_s;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
      dp[k] = log ? static_cast<T>(gp[k] - ::exp(static_cast<double>(yp[k])) * tot) : static_cast<T>(yp[k] * (gp[k] - tot));
    __syncthreads();  // shared_s is rewritten by the next row
  }
}

}  // namespace

void softmax_forward(const Tensor& x, Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log) {
  NvtxRange r(log ? "log_softmax" : "softmax");
  if (outer * n * inner == 0) return;
  dispatch_float(x.dtype(), "softmax (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1) softmax_rows_kernel<T><<<grid_items(outer), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), outer, n, log);
    else softmax_cols_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), outer, n, inner, log);
    SEG_LAUNCH_CHECK("softmax (cuda)");
  });
}

void softmax_backward(const Tensor& y, const Tensor& g, Tensor& dx, int64_t outer, int64_t n, int64_t inner, bool log) {
  NvtxRange r(log ? "log_softmax_backward" : "softmax_backward");
  if (outer * n * inner == 0) return;
  dispatch_float(g.dtype(), "softmax backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1)
      softmax_back_rows_kernel<T><<<grid_items(outer), kThreads, 0, stream()>>>(y.data<T>(), g.data<T>(), dx.data<T>(), outer, n, log);
    else
      softmax_back_cols_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream()>>>(y.data<T>(), g.data<T>(), dx.data<T>(),
                                                                                       outer, n, inner, log);
    SEG_LAUNCH_CHECK("softmax backward (cuda)");
  });
}

}  // namespace seg::cuda
