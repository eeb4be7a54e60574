// CUDA dropout (kernels/dropout_cuda.h): the keep/drop draw of element i is uniform_at(seed, offset, i) from the
// engine's Philox generator (dropout_math.h), so the GPU drops exactly the elements the CPU drops for the same
// generator state, whatever the thread layout. Nothing is stored: the backward re-draws the mask.
#include "kernels/cuda_util.cuh"
#include "kernels/dropout_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
__global__ void dropout_kernel(const T* x, T* y, int64_t n, uint64_t seed, uint64_t offset, double p) {
  const T scale = static_cast<T>(dropout_scale(p));
  SEG_GRID_STRIDE(i, n) {
    y[i] = dropout_keep(uniform_at(seed, offset, static_cast<uint64_t>(i)), p) ? x[i] * scale : T(0);
  }
}

template <class T>
__global__ void factors_kernel(T* f, int64_t n, uint64_t seed, uint64_t offset, double p) {
  SEG_GRID_STRIDE(i, n) f[i] = static_cast<T>(dropout_factor(seed, offset, static_cast<uint64_t>(i), p));
}

template <class T>
__global__ void scale_planes_kernel(const T* x, const T* f, T* y, int64_t n, int64_t S) {
  SEG_GRID_STRIDE(i, n) y[i] = x[i] * f[i / S];
}

}  // namespace

void dropout_apply(const Tensor& x, Tensor& y, uint64_t seed, uint64_t offset, double p) {
  NvtxRange r("dropout");
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_float(x.dtype(), "dropout (cuda)", [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), n, seed, offset, p);
    SEG_LAUNCH_CHECK("dropout (cuda)");
  });
}

void dropout_channel_factors(Tensor& factors, uint64_t seed, uint64_t offset, double p) {
  NvtxRange r("dropout_channel_factors");
  const int64_t n = factors.numel();
  if (n == 0) return;
  dispatch_float(factors.dtype(), "channel dropout (cuda)", [&](auto tag) {
    using T = decltype(tag);
    factors_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(factors.data<T>(), n, seed, offset, p);
    SEG_LAUNCH_CHECK("channel dropout (cuda)");
  });
}

void scale_planes(const Tensor& x, const Tensor& factors, Tensor& y) {
  NvtxRange r("scale_planes");
  const int64_t n = x.numel(), planes = factors.numel();
  if (n == 0 || planes == 0) return;
  dispatch_float(x.dtype(), "channel dropout (cuda)", [&](auto tag) {
    using T = decltype(tag);
    scale_planes_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), factors.data<T>(), y.data<T>(), n,
                                                                     n / planes);
    SEG_LAUNCH_CHECK("channel dropout (cuda)");
  });
}

}  // namespace seg::cuda
