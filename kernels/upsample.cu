// CUDA resize (kernels/upsample_cuda.h): nearest and (bi/tri)linear, forward one thread per output element with the
// tap arithmetic of upsample_math.h (PyTorch's index rules, in the tensor's scalar type, as the CPU); the backward is
// the adjoint, a scatter of dy along the same taps with atomicAdd into a zeroed dx.
// Key decision: taps are recomputed per element rather than tabulated as on the CPU — a few flops against a memory
// bound kernel, and no table upload per call.
#include "kernels/cuda_util.cuh"
#include "kernels/upsample_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
struct Tap {
  int64_t i0, i1;
  T l0, l1;
};

template <class T>
__device__ __forceinline__ Tap<T> tap(int64_t o, int64_t in, int64_t out, bool ac, double scale) {
  Tap<T> t;
  linear_taps(linear_ratio<T>(in, out, ac, scale), o, in, out, ac, t.i0, t.i1, t.l0, t.l1);
  return t;
}

template <class T, bool D3>
__global__ void linear_forward_kernel(const T* x, T* y, UpsampleGeom g) {
  const int64_t op = g.OD * g.OH * g.OW, ip = g.D * g.H * g.W;
  SEG_GRID_STRIDE(i, g.planes * op) {
    const int64_t p = i / op, r = i - p * op;
    const int64_t ow = r % g.OW, oh = (r / g.OW) % g.OH, od = r / (g.OW * g.OH);
    const Tap<T> th = tap<T>(oh, g.H, g.OH, g.align_corners, g.scale_h), tw = tap<T>(ow, g.W, g.OW, g.align_corners, g.scale_w);
    Tap<T> td{0, 0, T(1), T(0)};
    if (D3) td = tap<T>(od, g.D, g.OD, g.align_corners, g.scale_d);
    const T* plane = x + p * ip;
    const T* a0 = plane + (td.i0 * g.H + th.i0) * g.W;
    const T* a1 = plane + (td.i0 * g.H + th.i1) * g.W;
    T v = td.l0 * (th.l0 * (tw.l0 * a0[tw.i0] + tw.l1 * a0[tw.i1]) + th.l1 * (tw.l0 * a1[tw.i0] + tw.l1 * a1[tw.i1]));
    if (D3) {
      const T* b0 = plane + (td.i1 * g.H + th.i0) * g.W;
      const T* b1 = plane + (td.i1 * g.H + th.i1) * g.W;
      v += td.l1 * (th.l0 * (tw.l0 * b0[tw.i0] + tw.l1 * b0[tw.i1]) + th.l1 * (tw.l0 * b1[tw.i0] + tw.l1 * b1[tw.i1]));
    }
    y[i] = v;
  }
}

template <class T, bool D3>
__global__ void linear_backward_kernel(const T* dy, T* dx, UpsampleGeom g) {
  const int64_t op = g.OD * g.OH * g.OW, ip = g.D * g.H * g.W;
  SEG_GRID_STRIDE(i, g.planes * op) {
    const int64_t p = i / op, r = i - p * op;
    const int64_t ow = r % g.OW, oh = (r / g.OW) % g.OH, od = r / (g.OW * g.OH);
    const Tap<T> th = tap<T>(oh, g.H, g.OH, g.align_corners, g.scale_h), tw = tap<T>(ow, g.W, g.OW, g.align_corners, g.scale_w);
    Tap<T> td{0, 0, T(1), T(0)};
    if (D3) td = tap<T>(od, g.D, g.OD, g.align_corners, g.scale_d);
    T* plane = dx + p * ip;
    T* a0 = plane + (td.i0 * g.H + th.i0) * g.W;
    T* a1 = plane + (td.i0 * g.H + th.i1) * g.W;
    const T ga = td.l0 * dy[i];
    atomicAdd(a0 + tw.i0, ga * th.l0 * tw.l0);
    atomicAdd(a0 + tw.i1, ga * th.l0 * tw.l1);
    atomicAdd(a1 + tw.i0, ga * th.l1 * tw.l0);
    atomicAdd(a1 + tw.i1, ga * th.l1 * tw.l1);
    if (D3) {
      T* b0 = plane + (td.i1 * g.H + th.i0) * g.W;
      T* b1 = plane + (td.i1 * g.H + th.i1) * g.W;
      const T gb = td.l1 * dy[i];
      atomicAdd(b0 + tw.i0, gb * th.l0 * tw.l0);
      atomicAdd(b0 + tw.i1, gb * th.l0 * tw.l1);
      atomicAdd(b1 + tw.i0, gb * th.l1 * tw.l0);
      atomicAdd(b1 + tw.i1, gb * th.l1 * tw.l1);
    }
  }
}

__device__ __forceinline__ int64_t nearest_offset(const UpsampleGeom& g, int64_t r) {
  const int64_t ow = r % g.OW, oh = (r / g.OW) % g.OH, od = r / (g.OW * g.OH);
  const int64_t sd = nearest_source(od, g.D, g.OD, g.scale_d), sh = nearest_source(oh, g.H, g.OH, g.scale_h),
                sw = nearest_source(ow, g.W, g.OW, g.scale_w);
  return (sd * g.H + sh) * g.W + sw;
}

template <class T>
__global__ void nearest_forward_kernel(const T* x, T* y, UpsampleGeom g) {
  const int64_t op = g.OD * g.OH * g.OW, ip = g.D * g.H * g.W;
  SEG_GRID_STRIDE(i, g.planes * op) {
    const int64_t p = i / op;
    y[i] = x[p * ip + nearest_offset(g, i - p * op)];
  }
}

template <class T>
__global__ void nearest_backward_kernel(const T* dy, T* dx, UpsampleGeom g) {
  const int64_t op = g.OD * g.OH * g.OW, ip = g.D * g.H * g.W;
  SEG_GRID_STRIDE(i, g.planes * op) {
    const int64_t p = i / op;
    atomicAdd(dx + p * ip + nearest_offset(g, i - p * op), dy[i]);
  }
}

}  // namespace

void upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y, const UpsampleGeom& g) {
  NvtxRange r(mode == UpsampleMode::Nearest ? "upsample_nearest" : "upsample_linear");
  const int64_t n = g.planes * g.out_plane();
  if (n == 0) return;
  dispatch_float(x.dtype(), "upsample (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (mode == UpsampleMode::Nearest)
      nearest_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), g);
    else if (g.D == 1 && g.OD == 1)
      linear_forward_kernel<T, false><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), g);
    else
      linear_forward_kernel<T, true><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), g);
    SEG_LAUNCH_CHECK("upsample (cuda)");
  });
}

void upsample_backward(UpsampleMode mode, const Tensor& dy, Tensor& dx, const UpsampleGeom& g) {
  NvtxRange r(mode == UpsampleMode::Nearest ? "upsample_nearest_backward" : "upsample_linear_backward");
  if (dx.numel() == 0) return;
  cuda_memset_zero(dx.raw(), static_cast<size_t>(dx.numel()) * dtype_size(dx.dtype()));
  const int64_t n = g.planes * g.out_plane();
  if (n == 0) return;
  dispatch_float(dy.dtype(), "upsample backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (mode == UpsampleMode::Nearest)
      nearest_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(dy.data<T>(), dx.data<T>(), g);
    else if (g.D == 1 && g.OD == 1)
      linear_backward_kernel<T, false><<<grid_for(n), kThreads, 0, stream()>>>(dy.data<T>(), dx.data<T>(), g);
    else
      linear_backward_kernel<T, true><<<grid_for(n), kThreads, 0, stream()>>>(dy.data<T>(), dx.data<T>(), g);
    SEG_LAUNCH_CHECK("upsample backward (cuda)");
  });
}

}  // namespace seg::cuda
