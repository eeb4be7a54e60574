// CUDA raw moments (kernels/moments_cuda.h; basis in moments_math.h). Forward: each plane is split into chunks so
// a few large planes still fill the GPU; a block sums v·basis_m(x, y, z) over its chunk in double (CUB), one double
// atomicAdd per moment and block, then a cast to the output dtype. Backward: one thread per pixel evaluates the
// CPU's per-row polynomial (moments_row_grad).
#include "kernels/cuda_util.cuh"
#include "kernels/moments_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
__global__ void moments_kernel(const T* p, double* acc, int64_t planes, int64_t D, int64_t H, int64_t W, int sd,
                               int64_t chunk) {
  __shared__ typename BlockSum::TempStorage tmp;
  const int nm = sd == 2 ? kMoments2d : kMoments3d;
  const int64_t S = D * H * W, pl = blockIdx.y, begin = static_cast<int64_t>(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < S ? begin + chunk : S;
  double loc[kMoments3d] = {0};
  for (int64_t s = begin + threadIdx.x; s < end; s += blockDim.x) {
    const double v = static_cast<double>(p[pl * S + s]);
    const int64_t x = s % W, y = (s / W) % H, z = s / (W * H);
    double b[kMoments3d];
    ::seg::moment_basis(sd, static_cast<double>(x), static_cast<double>(y), static_cast<double>(z), b);
    for (int m = 0; m < nm; ++m) loc[m] += v * b[m];
  }
  for (int m = 0; m < nm; ++m) {
    const double t = block_sum(loc[m], tmp);
    if (threadIdx.x == 0) atomicAdd(acc + pl * nm + m, t);
  }
}

template <class T>
__global__ void cast_kernel(const double* src, T* dst, int64_t n) {
  SEG_GRID_STRIDE(i, n) dst[i] = static_cast<T>(src[i]);
}

template <class T>
__global__ void moments_backward_kernel(const T* g, T* dp, int64_t planes, int64_t D, int64_t H, int64_t W, int sd) {
  const int nm = sd == 2 ? kMoments2d : kMoments3d;
  const int64_t S = D * H * W;
  SEG_GRID_STRIDE(i, planes * S) {
    const int64_t pl = i / S, s = i - pl * S;
    const int64_t x = s % W, y = (s / W) % H, z = s / (W * H);
    double gm[kMoments3d];
    for (int m = 0; m < nm; ++m) gm[m] = static_cast<double>(g[pl * nm + m]);
    double c0, c1, c2;
    ::seg::moments_row_grad(sd, static_cast<double>(y), static_cast<double>(z), gm, &c0, &c1, &c2);
    const double xv = static_cast<double>(x);
    dp[i] = static_cast<T>(c0 + xv * (c1 + xv * c2));
  }
}

}  // namespace

void moments_forward(const Tensor& p, Tensor& m, int sd) {
  NvtxRange r(sd == 2 ? "moments2d" : "moments3d");
  const char* op = "moments (cuda)";
  const int64_t planes = p.size(0) * p.size(1), D = sd == 3 ? p.size(2) : 1, H = p.size(-2), W = p.size(-1);
  const int64_t S = D * H * W, nm = sd == 2 ? kMoments2d : kMoments3d;
  if (planes == 0) return;
  const PlaneChunks pc = plane_chunks(planes, S, op);
  DeviceBuffer acc(static_cast<size_t>(planes * nm) * sizeof(double));
  SEG_CUDA_CHECK(cudaMemsetAsync(acc.get(), 0, acc.bytes(), stream()), op);
  dispatch_float(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (S > 0) {
      moments_kernel<T><<<pc.grid, kThreads, 0, stream()>>>(p.data<T>(), acc.as<double>(), planes, D, H, W, sd,
                                                            pc.chunk);
      SEG_LAUNCH_CHECK(op);
    }
    cast_kernel<T><<<grid_for(planes * nm), kThreads, 0, stream()>>>(acc.as<double>(), m.data<T>(), planes * nm);
    SEG_LAUNCH_CHECK(op);
  });
}

void moments_backward(const Tensor& dm, Tensor& dp, int sd) {
  NvtxRange r(sd == 2 ? "moments2d_backward" : "moments3d_backward");
  const int64_t planes = dp.size(0) * dp.size(1), D = sd == 3 ? dp.size(2) : 1, H = dp.size(-2), W = dp.size(-1);
  const int64_t n = dp.numel();
  if (n == 0) return;
  dispatch_float(dp.dtype(), "moments backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    moments_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(dm.data<T>(), dp.data<T>(), planes, D, H, W, sd);
    SEG_LAUNCH_CHECK("moments backward (cuda)");
  });
}

}  // namespace seg::cuda
