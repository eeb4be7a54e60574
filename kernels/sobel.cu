// CUDA Sobel (kernels/sobel_cuda.h): one thread per output element evaluating sobel_component_at (sobel_math.h, the
// CPU's function) — a 3×3(×3) stencil read straight from global memory, which the L1/L2 caches serve well for the
// small number of channels here. The adjoint is the same correlation negated (see sobel_math.h).
#include "kernels/cuda_util.cuh"
#include "kernels/sobel_cuda.h"

namespace seg::cuda {
namespace {

struct Dims {
  int64_t planes, D, H, W;
};
Dims dims_of(const Tensor& x, int sd) { return {x.size(0) * x.size(1), sd == 3 ? x.size(2) : 1, x.size(-2), x.size(-1)}; }

__device__ __forceinline__ void zyx(const Dims& d, int64_t s, int64_t& z, int64_t& y, int64_t& x) {
  x = s % d.W;
  y = (s / d.W) % d.H;
  z = s / (d.W * d.H);
}

// y[(pl·sd + a)·S + s] = component (3 − sd + a) of plane pl at s.
template <class T>
__global__ void sobel_forward_kernel(const T* in, T* out, Dims d, int sd) {
  const int64_t S = d.D * d.H * d.W;
  SEG_GRID_STRIDE(i, d.planes * sd * S) {
    const int64_t s = i % S, pa = i / S, a = pa % sd, pl = pa / sd;
    int64_t z, y, x;
    zyx(d, s, z, y, x);
    out[i] = static_cast<T>(::seg::sobel_component_at(in + pl * S, d.D, d.H, d.W, z, y, x, static_cast<int>(3 - sd + a)));
  }
}

template <class T>
__global__ void sobel_backward_kernel(const T* in, T* out, Dims d, int sd) {
  const int64_t S = d.D * d.H * d.W;
  SEG_GRID_STRIDE(i, d.planes * S) {
    const int64_t s = i % S, pl = i / S;
    int64_t z, y, x;
    zyx(d, s, z, y, x);
    double acc = 0;
    for (int a = 0; a < sd; ++a) acc -= ::seg::sobel_component_at(in + (pl * sd + a) * S, d.D, d.H, d.W, z, y, x, 3 - sd + a);
    out[i] = static_cast<T>(acc);
  }
}

template <class T>
__global__ void edge_map_kernel(const T* in, T* out, Dims d, int sd) {
  const int64_t S = d.D * d.H * d.W;
  SEG_GRID_STRIDE(i, d.planes * S) {
    const int64_t s = i % S, pl = i / S;
    int64_t z, y, x;
    zyx(d, s, z, y, x);
    bool edge = false;
    for (int a = 0; a < sd && !edge; ++a) edge = ::seg::sobel_component_at(in + pl * S, d.D, d.H, d.W, z, y, x, 3 - sd + a) != 0.0;
    out[i] = edge ? T(1) : T(0);
  }
}

}  // namespace

void sobel_forward(const Tensor& x, Tensor& y, int sd) {
  NvtxRange r(sd == 2 ? "sobel2d" : "sobel3d");
  const Dims d = dims_of(x, sd);
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_float(x.dtype(), "sobel (cuda)", [&](auto tag) {
    using T = decltype(tag);
    sobel_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), d, sd);
    SEG_LAUNCH_CHECK("sobel (cuda)");
  });
}

void sobel_backward(const Tensor& dy, Tensor& dx, int sd) {
  NvtxRange r(sd == 2 ? "sobel2d_backward" : "sobel3d_backward");
  const Dims d = dims_of(dx, sd);
  const int64_t n = dx.numel();
  if (n == 0) return;
  dispatch_float(dy.dtype(), "sobel backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    sobel_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(dy.data<T>(), dx.data<T>(), d, sd);
    SEG_LAUNCH_CHECK("sobel backward (cuda)");
  });
}

void edge_map(const Tensor& x, Tensor& y, int sd) {
  NvtxRange r("edge_map");
  const Dims d = dims_of(x, sd);
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_float(x.dtype(), "edge_map (cuda)", [&](auto tag) {
    using T = decltype(tag);
    edge_map_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), d, sd);
    SEG_LAUNCH_CHECK("edge_map (cuda)");
  });
}

}  // namespace seg::cuda
