// CUDA Laplacian quadratic form (kernels/laplacian_cuda.h; stencils in laplacian_math.h). Forward: q[n, k] =
// Σ over half-offset neighbour pairs (p_a − p_b)², each map split into chunks (so a few large maps fill the GPU), a
// CUB block sum in double per chunk and one atomicAdd per block, then a cast. Backward: one thread per pixel,
// dp = 2·dq·(Lp) with laplacian_apply_at.
#include "kernels/cuda_util.cuh"
#include "kernels/laplacian_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
__global__ void laplacian_kernel(const T* p, double* acc, int64_t D, int64_t H, int64_t W, int conn, int64_t chunk) {
  __shared__ typename BlockSum::TempStorage tmp;
  int o[13][3];
  const int no = ::seg::laplacian_half_offsets(conn, o);
  const int64_t S = D * H * W, pl = blockIdx.y, begin = static_cast<int64_t>(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < S ? begin + chunk : S;
  double loc = 0;
  for (int64_t s = begin + threadIdx.x; s < end; s += blockDim.x) {
    const int64_t x = s % W, y = (s / W) % H, z = s / (W * H);
    loc += ::seg::laplacian_pairs_at(p + pl * S, D, H, W, z, y, x, o, no);
  }
  const double t = block_sum(loc, tmp);
  if (threadIdx.x == 0) atomicAdd(acc + pl, t);
}

template <class T>
__global__ void cast_kernel(const double* src, T* dst, int64_t n) {
  SEG_GRID_STRIDE(i, n) dst[i] = static_cast<T>(src[i]);
}

template <class T>
__global__ void laplacian_backward_kernel(const T* p, const T* g, T* dp, int64_t planes, int64_t D, int64_t H,
                                          int64_t W, int conn) {
  int o[13][3];
  const int no = ::seg::laplacian_half_offsets(conn, o);
  const int64_t S = D * H * W;
  SEG_GRID_STRIDE(i, planes * S) {
    const int64_t pl = i / S, s = i - pl * S;
    const int64_t x = s % W, y = (s / W) % H, z = s / (W * H);
    const double gg = 2.0 * static_cast<double>(g[pl]);
    dp[i] = static_cast<T>(gg * ::seg::laplacian_apply_at(p + pl * S, D, H, W, z, y, x, o, no));
  }
}

struct Dims {
  int64_t planes, D, H, W;
};
Dims dims_of(const Tensor& p) {
  const bool three = p.dim() == 5;
  return {p.size(0) * p.size(1), three ? p.size(2) : 1, p.size(-2), p.size(-1)};
}

}  // namespace

void laplacian_forward(const Tensor& p, Tensor& q, int connectivity) {
  NvtxRange r("laplacian_quadratic");
  const char* op = "laplacian_quadratic (cuda)";
  const Dims d = dims_of(p);
  const int64_t S = d.D * d.H * d.W;
  if (d.planes == 0) return;
  SEG_CHECK(d.planes <= 65535, op, ": at most 65535 (n, k) maps, got ", d.planes);
  DeviceBuffer acc(static_cast<size_t>(d.planes) * sizeof(double));
  SEG_CUDA_CHECK(cudaMemsetAsync(acc.get(), 0, acc.bytes(), stream()), op);
  const int64_t want = std::max<int64_t>(1, static_cast<int64_t>(sm_count()) * 8 / d.planes);
  const int64_t chunk = std::max<int64_t>(kThreads * 4, (S + want - 1) / want);
  const dim3 grid(static_cast<unsigned>(std::max<int64_t>(1, (S + chunk - 1) / chunk)), static_cast<unsigned>(d.planes));
  dispatch_float(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (S > 0) {
      laplacian_kernel<T><<<grid, kThreads, 0, stream()>>>(p.data<T>(), acc.as<double>(), d.D, d.H, d.W, connectivity, chunk);
      SEG_LAUNCH_CHECK(op);
    }
    cast_kernel<T><<<grid_for(d.planes), kThreads, 0, stream()>>>(acc.as<double>(), q.data<T>(), d.planes);
    SEG_LAUNCH_CHECK(op);
  });
}

void laplacian_backward(const Tensor& p, const Tensor& dq, Tensor& dp, int connectivity) {
  NvtxRange r("laplacian_quadratic_backward");
  const Dims d = dims_of(p);
  const int64_t n = p.numel();
  if (n == 0) return;
  dispatch_float(p.dtype(), "laplacian_quadratic backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    laplacian_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(p.data<T>(), dq.data<T>(), dp.data<T>(),
                                                                          d.planes, d.D, d.H, d.W, connectivity);
    SEG_LAUNCH_CHECK("laplacian_quadratic backward (cuda)");
  });
}

}  // namespace seg::cuda
