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

// The taps of output element i along each axis, and its (n, c) plane p.
template <class T>
struct Taps3 {
  int64_t p;
  Tap<T> td, th, tw;
};
template <class T, bool D3>
__device__ __forceinline__ Taps3<T> taps_of(int64_t i, const UpsampleGeom& g) {
  const int64_t op = g.OD * g.OH * g.OW, p = i / op, r = i - p * op;
  const int64_t ow = r % g.OW, oh = (r / g.OW) % g.OH, od = r / (g.OW * g.OH);
  Taps3<T> t{p, {0, 0, T(1), T(0)}, tap<T>(oh, g.H, g.OH, g.align_corners, g.scale_h),
             tap<T>(ow, g.W, g.OW, g.align_corners, g.scale_w)};
  if (D3) t.td = tap<T>(od, g.D, g.OD, g.align_corners, g.scale_d);
  return t;
}

template <class T, bool D3>
__global__ void linear_forward_kernel(const T* x, T* y, UpsampleGeom g) {
  SEG_GRID_STRIDE(i, g.planes * g.out_plane()) {
    const auto [p, td, th, tw] = taps_of<T, D3>(i, g);
    const T* plane = x + p * g.in_plane();
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

// Adds v·(bilinear weight) to the four pixels of one depth slice (row length W) that taps th, tw read.
template <class T>
__device__ __forceinline__ void scatter_bilinear(T* slice, int64_t W, const Tap<T>& th, const Tap<T>& tw, T v) {
  T* r0 = slice + th.i0 * W;
  T* r1 = slice + th.i1 * W;
  atomicAdd(r0 + tw.i0, v * th.l0 * tw.l0);
  atomicAdd(r0 + tw.i1, v * th.l0 * tw.l1);
  atomicAdd(r1 + tw.i0, v * th.l1 * tw.l0);
  atomicAdd(r1 + tw.i1, v * th.l1 * tw.l1);
}

template <class T, bool D3>
__global__ void linear_backward_kernel(const T* dy, T* dx, UpsampleGeom g) {
  SEG_GRID_STRIDE(i, g.planes * g.out_plane()) {
    const auto [p, td, th, tw] = taps_of<T, D3>(i, g);
    T* plane = dx + p * g.in_plane();
    scatter_bilinear(plane + td.i0 * g.H * g.W, g.W, th, tw, td.l0 * dy[i]);
    if (D3) scatter_bilinear(plane + td.i1 * g.H * g.W, g.W, th, tw, td.l1 * dy[i]);
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

// The kernel for a mode and geometry, forward or backward: all share the signature (src, dst, geometry) and the launch
// shape (one thread per output element).
template <class T>
using ResizeKernel = void (*)(const T*, T*, UpsampleGeom);
template <class T>
ResizeKernel<T> pick_kernel(UpsampleMode mode, const UpsampleGeom& g, bool backward) {
  if (mode == UpsampleMode::Nearest) return backward ? nearest_backward_kernel<T> : nearest_forward_kernel<T>;
  if (g.D == 1 && g.OD == 1) return backward ? linear_backward_kernel<T, false> : linear_forward_kernel<T, false>;
  return backward ? linear_backward_kernel<T, true> : linear_forward_kernel<T, true>;
}

void launch(UpsampleMode mode, const Tensor& src, Tensor& dst, const UpsampleGeom& g, bool backward, const char* op) {
  const int64_t n = g.planes * g.out_plane();
  if (n == 0) return;
  dispatch_float(src.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    pick_kernel<T>(mode, g, backward)<<<grid_for(n), kThreads, 0, stream()>>>(src.data<T>(), dst.data<T>(), g);
    SEG_LAUNCH_CHECK(op);
  });
}

}  // namespace

void upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y, const UpsampleGeom& g) {
  NvtxRange r(mode == UpsampleMode::Nearest ? "upsample_nearest" : "upsample_linear");
  launch(mode, x, y, g, false, "upsample (cuda)");
}

void upsample_backward(UpsampleMode mode, const Tensor& dy, Tensor& dx, const UpsampleGeom& g) {
  NvtxRange r(mode == UpsampleMode::Nearest ? "upsample_nearest_backward" : "upsample_linear_backward");
  if (dx.numel() == 0) return;
  cuda_memset_zero(dx.raw(), static_cast<size_t>(dx.numel()) * dtype_size(dx.dtype()));
  launch(mode, dy, dx, g, true, "upsample backward (cuda)");
}

}  // namespace seg::cuda
