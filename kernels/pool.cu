// CUDA max pooling / unpooling (kernels/pool_cuda.h). Forward: one thread per output element runs
// max_pool_window (pool_math.h, the CPU's window function, NaN and tie rules included). Backward: a zeroed dx and an
// atomicAdd of dy at each saved index (windows overlap when kernel > stride). Unpooling is a scatter of x at the
// indices, its backward a gather.
// Key decision: max_unpool checks its indices on the device and reads one flag back (a synchronisation), because a
// bad index must be an error naming the op — as on the CPU — not a silent out-of-bounds write.
#include "kernels/cuda_util.cuh"
#include "kernels/pool_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
__global__ void pool_forward_kernel(const T* x, T* y, int64_t* idx, PoolGeom g) {
  const int64_t op = g.OD * g.OH * g.OW, ip = g.D * g.H * g.W;
  SEG_GRID_STRIDE(i, g.planes * op) {
    const int64_t p = i / op, r = i - p * op;
    const int64_t ow = r % g.OW, oh = (r / g.OW) % g.OH, od = r / (g.OW * g.OH);
    T best;
    int64_t bi;
    max_pool_window(x + p * ip, g, od, oh, ow, best, bi);
    y[i] = best;
    idx[i] = bi;
  }
}

template <class T>
__global__ void pool_backward_kernel(const T* dy, const int64_t* idx, T* dx, int64_t planes, int64_t ip, int64_t op) {
  SEG_GRID_STRIDE(i, planes * op) {
    const int64_t p = i / op;
    atomicAdd(dx + p * ip + idx[i], dy[i]);
  }
}

template <class T>
__global__ void unpool_forward_kernel(const T* x, const int64_t* idx, T* y, int64_t planes, int64_t ip, int64_t op,
                                      int* bad) {
  SEG_GRID_STRIDE(i, planes * ip) {
    const int64_t p = i / ip, j = idx[i];
    if (j < 0 || j >= op) {
      *bad = 1;
      continue;
    }
    y[p * op + j] = x[i];
  }
}

template <class T>
__global__ void unpool_backward_kernel(const T* dy, const int64_t* idx, T* dx, int64_t planes, int64_t ip, int64_t op) {
  SEG_GRID_STRIDE(i, planes * ip) {
    const int64_t p = i / ip, j = idx[i];
    dx[i] = (j >= 0 && j < op) ? dy[p * op + j] : T(0);
  }
}

}  // namespace

void max_pool_forward(const Tensor& x, Tensor& y, Tensor& indices, const PoolGeom& g) {
  NvtxRange r("max_pool_forward");
  const int64_t n = g.planes * g.out_plane();
  if (n == 0) return;
  dispatch_float(x.dtype(), "max_pool (cuda)", [&](auto tag) {
    using T = decltype(tag);
    pool_forward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), indices.data<int64_t>(), g);
    SEG_LAUNCH_CHECK("max_pool (cuda)");
  });
}

void max_pool_backward(const Tensor& dy, const Tensor& indices, Tensor& dx, const PoolGeom& g) {
  NvtxRange r("max_pool_backward");
  if (dx.numel() == 0) return;
  cuda_memset_zero(dx.raw(), static_cast<size_t>(dx.numel()) * dtype_size(dx.dtype()));
  const int64_t n = g.planes * g.out_plane();
  if (n == 0) return;
  dispatch_float(dy.dtype(), "max_pool backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    pool_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(dy.data<T>(), indices.data<int64_t>(), dx.data<T>(),
                                                                      g.planes, g.in_plane(), g.out_plane());
    SEG_LAUNCH_CHECK("max_pool backward (cuda)");
  });
}

void max_unpool_forward(const Tensor& x, const Tensor& indices, Tensor& y) {
  NvtxRange r("max_unpool_forward");
  const int64_t planes = x.size(0) * x.size(1);
  if (y.numel() == 0 || planes == 0) return;
  const int64_t ip = x.numel() / planes, op = y.numel() / planes;
  cuda_memset_zero(y.raw(), static_cast<size_t>(y.numel()) * dtype_size(y.dtype()));
  if (ip == 0) return;
  DeviceBuffer flag(sizeof(int));
  SEG_CUDA_CHECK(cudaMemsetAsync(flag.get(), 0, sizeof(int), stream()), "max_unpool (cuda)");
  dispatch_float(x.dtype(), "max_unpool (cuda)", [&](auto tag) {
    using T = decltype(tag);
    unpool_forward_kernel<T><<<grid_for(planes * ip), kThreads, 0, stream()>>>(x.data<T>(), indices.data<int64_t>(),
                                                                                 y.data<T>(), planes, ip, op, flag.as<int>());
    SEG_LAUNCH_CHECK("max_unpool (cuda)");
  });
  int bad = 0;
  SEG_CUDA_CHECK(cudaMemcpyAsync(&bad, flag.get(), sizeof(int), cudaMemcpyDeviceToHost, stream()), "max_unpool (cuda)");
  SEG_CUDA_CHECK(cudaStreamSynchronize(stream()), "max_unpool (cuda)");
  SEG_CHECK(bad == 0, "max_unpool: an index is outside the output plane of ", op, " elements (output ", y.describe(), ")");
}

void max_unpool_backward(const Tensor& dy, const Tensor& indices, Tensor& dx) {
  NvtxRange r("max_unpool_backward");
  const int64_t planes = dx.size(0) * dx.size(1);
  if (dx.numel() == 0 || planes == 0) return;
  const int64_t ip = dx.numel() / planes, op = dy.numel() / planes;
  dispatch_float(dy.dtype(), "max_unpool backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    unpool_backward_kernel<T><<<grid_for(planes * ip), kThreads, 0, stream()>>>(dy.data<T>(), indices.data<int64_t>(),
                                                                                  dx.data<T>(), planes, ip, op);
    SEG_LAUNCH_CHECK("max_unpool backward (cuda)");
  });
}

}  // namespace seg::cuda
