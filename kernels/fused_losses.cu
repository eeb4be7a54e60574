// CUDA fused losses (kernels/fused_losses_cuda.h; formulas in fused_losses_math.h): balanced BCE with logits, Dice,
// extended log-barrier. Sums run in double: per-block CUB sums, one double atomicAdd per block and sum, then a
// one-thread kernel forms the loss on the device — nothing is read back, so a training step does not synchronise here.
// Key decision (and the one difference from the CPU): balanced BCE does not check on the GPU that the target holds
// only 0 and 1 (that check needs a read-back); values other than 1 count as negatives, as in the formula's t > 0.5.
#include "kernels/cuda_util.cuh"
#include "kernels/fused_losses_cuda.h"

namespace seg::cuda {
namespace {

// acc[0] += Σ_{t=1} log σ(x), acc[1] += Σ_{t=0} log σ(−x), acc[2] += #zeros.
template <class T>
__global__ void bce_sums_kernel(const T* x, const T* t, int64_t n, double* acc) {
  __shared__ typename BlockSum::TempStorage tmp;
  double s1 = 0, s0 = 0, zeros = 0;
  SEG_GRID_STRIDE(i, n) {
    const double tv = static_cast<double>(t[i]);
    zeros += tv == 0.0 ? 1.0 : 0.0;
    ::seg::balanced_bce_terms(static_cast<double>(x[i]), tv, &s1, &s0);
  }
  const double a = block_sum(s1, tmp), b = block_sum(s0, tmp), c = block_sum(zeros, tmp);
  if (threadIdx.x == 0) {
    atomicAdd(acc, a);
    atomicAdd(acc + 1, b);
    atomicAdd(acc + 2, c);
  }
}

template <class T>
__global__ void bce_finish_kernel(const double* acc, int64_t n, T* loss, double* beta) {
  const double nn = static_cast<double>(n), b = acc[2] / nn;
  *beta = b;
  *loss = static_cast<T>(-(b * acc[0] + (1.0 - b) * acc[1]) / nn);
}

template <class T>
__global__ void bce_backward_kernel(const T* x, const T* t, const double* beta, const T* g, T* dx, int64_t n) {
  const double b = *beta, gn = static_cast<double>(*g) / static_cast<double>(n);
  SEG_GRID_STRIDE(i, n)
  dx[i] = static_cast<T>(::seg::balanced_bce_grad(static_cast<double>(x[i]), static_cast<double>(t[i]), b, gn));
}

// sums[3k..3k+2] += [Σp·g, Σp, Σg] over the chunk of plane (n, k) this block owns.
template <class T>
__global__ void dice_sums_kernel(const T* p, const T* t, int64_t K, int64_t S, int64_t chunk, double* sums) {
  __shared__ typename BlockSum::TempStorage tmp;
  const int64_t pl = blockIdx.y, k = pl % K, begin = static_cast<int64_t>(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < S ? begin + chunk : S;
  double I = 0, P = 0, G = 0;
  for (int64_t s = begin + threadIdx.x; s < end; s += blockDim.x) {
    const double a = static_cast<double>(p[pl * S + s]), b = static_cast<double>(t[pl * S + s]);
    I += a * b;
    P += a;
    G += b;
  }
  const double sI = block_sum(I, tmp), sP = block_sum(P, tmp), sG = block_sum(G, tmp);
  if (threadIdx.x == 0) {
    atomicAdd(sums + 3 * k, sI);
    atomicAdd(sums + 3 * k + 1, sP);
    atomicAdd(sums + 3 * k + 2, sG);
  }
}

template <class T>
__global__ void dice_finish_kernel(const double* sums, int64_t K, double eps, T* loss) {
  double mean = 0;
  for (int64_t k = 0; k < K; ++k) mean += ::seg::dice_ratio(sums[3 * k], sums[3 * k + 1], sums[3 * k + 2], eps);
  *loss = static_cast<T>(1.0 - mean / static_cast<double>(K));
}

template <class T>
__global__ void dice_backward_kernel(const T* t, const double* sums, const T* g, T* dp, int64_t n, int64_t K, int64_t S,
                                     double eps) {
  const double gout = static_cast<double>(*g);
  SEG_GRID_STRIDE(i, n) {
    const int64_t k = (i / S) % K;
    dp[i] = static_cast<T>(::seg::dice_grad(static_cast<double>(t[i]), sums[3 * k], sums[3 * k + 1], sums[3 * k + 2],
                                            eps, static_cast<double>(K), gout));
  }
}

template <class T>
__global__ void log_barrier_kernel(const T* z, T* y, int64_t n, double t) {
  SEG_GRID_STRIDE(i, n) y[i] = static_cast<T>(::seg::log_barrier_value(static_cast<double>(z[i]), t));
}

template <class T>
__global__ void log_barrier_backward_kernel(const T* z, const T* g, T* dz, int64_t n, double t) {
  SEG_GRID_STRIDE(i, n) dz[i] = static_cast<T>(g[i] * ::seg::log_barrier_derivative(static_cast<double>(z[i]), t));
}

}  // namespace

void balanced_bce_forward(const Tensor& logits, const Tensor& target, Tensor& loss, Tensor& beta) {
  NvtxRange r("balanced_bce_with_logits");
  const char* op = "balanced_bce_with_logits (cuda)";
  const int64_t n = logits.numel();
  SEG_CHECK(n > 0, op, ": empty input");
  DeviceBuffer acc(3 * sizeof(double));
  SEG_CUDA_CHECK(cudaMemsetAsync(acc.get(), 0, acc.bytes(), stream()), op);
  dispatch_float(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    bce_sums_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(logits.data<T>(), target.data<T>(), n, acc.as<double>());
    SEG_LAUNCH_CHECK(op);
    bce_finish_kernel<T><<<1, 1, 0, stream()>>>(acc.as<double>(), n, loss.data<T>(), beta.data<double>());
    SEG_LAUNCH_CHECK(op);
  });
}

void balanced_bce_backward(const Tensor& logits, const Tensor& target, const Tensor& beta, const Tensor& g, Tensor& dx) {
  NvtxRange r("balanced_bce_with_logits_backward");
  const int64_t n = logits.numel();
  if (n == 0) return;
  dispatch_float(logits.dtype(), "balanced_bce_with_logits backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    bce_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(logits.data<T>(), target.data<T>(),
                                                                    beta.data<double>(), g.data<T>(), dx.data<T>(), n);
    SEG_LAUNCH_CHECK("balanced_bce_with_logits backward (cuda)");
  });
}

void dice_forward(const Tensor& p, const Tensor& target, Tensor& sums, Tensor& loss, double eps) {
  NvtxRange r("dice_loss");
  const char* op = "dice_loss (cuda)";
  const int64_t N = p.size(0), K = p.size(1), S = p.numel() / (N * K);
  const PlaneChunks pc = plane_chunks(N * K, S, op);
  cuda_memset_zero(sums.raw(), static_cast<size_t>(sums.numel()) * sizeof(double));
  dispatch_float(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (S > 0) {
      dice_sums_kernel<T><<<pc.grid, kThreads, 0, stream()>>>(p.data<T>(), target.data<T>(), K, S, pc.chunk,
                                                              sums.data<double>());
      SEG_LAUNCH_CHECK(op);
    }
    dice_finish_kernel<T><<<1, 1, 0, stream()>>>(sums.data<double>(), K, eps, loss.data<T>());
    SEG_LAUNCH_CHECK(op);
  });
}

void dice_backward(const Tensor& target, const Tensor& sums, const Tensor& g, Tensor& dp, double eps) {
  NvtxRange r("dice_loss_backward");
  const int64_t n = target.numel();
  if (n == 0) return;
  const int64_t N = target.size(0), K = target.size(1), S = n / (N * K);
  dispatch_float(dp.dtype(), "dice_loss backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    dice_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(target.data<T>(), sums.data<double>(), g.data<T>(),
                                                                     dp.data<T>(), n, K, S, eps);
    SEG_LAUNCH_CHECK("dice_loss backward (cuda)");
  });
}

void log_barrier_forward(const Tensor& z, Tensor& y, double t) {
  NvtxRange r("log_barrier");
  const int64_t n = z.numel();
  if (n == 0) return;
  dispatch_float(z.dtype(), "log_barrier (cuda)", [&](auto tag) {
    using T = decltype(tag);
    log_barrier_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(z.data<T>(), y.data<T>(), n, t);
    SEG_LAUNCH_CHECK("log_barrier (cuda)");
  });
}

void log_barrier_backward(const Tensor& z, const Tensor& g, Tensor& dz, double t) {
  NvtxRange r("log_barrier_backward");
  const int64_t n = z.numel();
  if (n == 0) return;
  dispatch_float(z.dtype(), "log_barrier backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    log_barrier_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(z.data<T>(), g.data<T>(), dz.data<T>(), n, t);
    SEG_LAUNCH_CHECK("log_barrier backward (cuda)");
  });
}

}  // namespace seg::cuda
