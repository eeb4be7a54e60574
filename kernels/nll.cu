// CUDA NLL (kernels/nll_cuda.h) over the (N, C, S) view: per[n·S+s] = −w[t]·x[n,t,s]; wsum = Σ w[t] over the
// non-ignored pixels, block sums (CUB) combined with one double atomicAdd per block, then cast to the input's dtype.
// An out-of-range target is recorded with an atomic exchange (any one of them; the host reports it), which is the
// one synchronising read of this op — the CPU path reports the same error.
#include <climits>

#include "kernels/cuda_util.cuh"
#include "kernels/nll_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
__global__ void nll_forward_kernel(const T* x, const int64_t* t, const T* w, int64_t N, int64_t C, int64_t S,
                                   int64_t ignore, T* per, double* wsum, unsigned long long* bad) {
  __shared__ typename BlockSum::TempStorage tmp;
  double ws = 0;
  SEG_GRID_STRIDE(i, N * S) {
    const int64_t n = i / S, s = i - n * S;
    const int64_t c = t[i];
    if (c == ignore) {
      per[i] = T(0);
    } else if (c < 0 || c >= C) {
      atomicExch(bad, static_cast<unsigned long long>(c));
      per[i] = T(0);
    } else {
      const T wc = w ? w[c] : T(1);
      per[i] = -wc * x[(n * C + c) * S + s];
      ws += static_cast<double>(wc);
    }
  }
  const double b = block_sum(ws, tmp);
  if (threadIdx.x == 0) atomicAdd(wsum, b);
}

template <class T>
__global__ void cast_kernel(const double* src, T* dst) {
  dst[0] = static_cast<T>(src[0]);
}

template <class T>
__global__ void nll_backward_kernel(const int64_t* t, const T* w, int64_t N, int64_t C, int64_t S, int64_t ignore,
                                    const T* g, bool per_elem, double factor, T* dx) {
  SEG_GRID_STRIDE(i, N * C * S) {
    const int64_t s = i % S, nc = i / S, c = nc % C, n = nc / C;
    const int64_t tc = t[n * S + s];
    T v = T(0);
    if (tc == c && tc != ignore) {
      const T wc = w ? w[c] : T(1);
      v = static_cast<T>(-wc * (per_elem ? g[n * S + s] : g[0]) * factor);
    }
    dx[i] = v;
  }
}

}  // namespace

void nll_forward(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index, Tensor& per,
                 Tensor& wsum, int64_t* bad_target) {
  NvtxRange r("nll_loss");
  const int64_t N = input.size(0), C = input.size(1), S = input.numel() / std::max<int64_t>(1, N * C);
  DeviceBuffer scratch(sizeof(double) + sizeof(unsigned long long));
  double* ws = scratch.as<double>();
  auto* bad = reinterpret_cast<unsigned long long*>(ws + 1);
  const long long init_bad = LLONG_MIN;
  SEG_CUDA_CHECK(cudaMemsetAsync(ws, 0, sizeof(double), stream()), "nll_loss (cuda)");
  SEG_CUDA_CHECK(cudaMemcpyAsync(bad, &init_bad, sizeof init_bad, cudaMemcpyHostToDevice, stream()), "nll_loss (cuda)");
  dispatch_float(input.dtype(), "nll_loss (cuda)", [&](auto tag) {
    using T = decltype(tag);
    if (N * S > 0)
      nll_forward_kernel<T><<<grid_for(N * S), kThreads, 0, stream()>>>(input.data<T>(), target.data<int64_t>(),
                                                                          opt_data<T>(weight), N, C, S, ignore_index,
                                                                          per.data<T>(), ws, bad);
    SEG_LAUNCH_CHECK("nll_loss (cuda)");
    cast_kernel<T><<<1, 1, 0, stream()>>>(ws, wsum.data<T>());
    SEG_LAUNCH_CHECK("nll_loss (cuda)");
  });
  long long b = LLONG_MIN;
  SEG_CUDA_CHECK(cudaMemcpyAsync(&b, bad, sizeof b, cudaMemcpyDeviceToHost, stream()), "nll_loss (cuda)");
  SEG_CUDA_CHECK(cudaStreamSynchronize(stream()), "nll_loss (cuda)");
  *bad_target = static_cast<int64_t>(b);
}

void nll_backward(const Tensor& target, const Tensor& weight, int64_t ignore_index, const Tensor& g, bool g_per_element,
                  double factor, Tensor& dinput) {
  NvtxRange r("nll_loss_backward");
  const int64_t N = dinput.size(0), C = dinput.size(1), S = dinput.numel() / std::max<int64_t>(1, N * C);
  if (N * C * S == 0) return;
  dispatch_float(dinput.dtype(), "nll_loss backward (cuda)", [&](auto tag) {
    using T = decltype(tag);
    nll_backward_kernel<T><<<grid_for(N * C * S), kThreads, 0, stream()>>>(target.data<int64_t>(), opt_data<T>(weight),
                                                                             N, C, S, ignore_index, g.data<T>(),
                                                                             g_per_element, factor, dinput.data<T>());
    SEG_LAUNCH_CHECK("nll_loss backward (cuda)");
  });
}

}  // namespace seg::cuda
