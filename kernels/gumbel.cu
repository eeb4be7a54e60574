// CUDA Gumbel noise and the hard one-hot of the straight-through Gumbel-softmax (kernels/gumbel_cuda.h). Noise
// element i is gumbel_at(seed, offset, i) (gumbel_math.h): the same numbers the CPU draws for the same generator state.
#include "kernels/cuda_util.cuh"
#include "kernels/gumbel_cuda.h"

namespace seg::cuda {
namespace {

template <class T>
__global__ void gumbel_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset) {
  SEG_GRID_STRIDE(i, n) out[i] = static_cast<T>(::seg::gumbel_at(seed, offset, static_cast<uint64_t>(i)));
}

// One thread per (outer, inner) column: 1 at the first maximum along `size`, as the CPU.
template <class T>
__global__ void one_hot_argmax_kernel(const T* x, T* y, int64_t outer, int64_t size, int64_t inner) {
  SEG_GRID_STRIDE(oi, outer * inner) {
    const int64_t o = oi / inner, i = oi - o * inner;
    const T* src = x + o * size * inner + i;
    T* dst = y + o * size * inner + i;
    int64_t best = 0;
    for (int64_t s = 1; s < size; ++s)
      if (src[s * inner] > src[best * inner]) best = s;
    for (int64_t s = 0; s < size; ++s) dst[s * inner] = s == best ? T(1) : T(0);
  }
}

}  // namespace

void gumbel_noise(Tensor& out, uint64_t seed, uint64_t offset) {
  NvtxRange r("gumbel_noise");
  const int64_t n = out.numel();
  if (n == 0) return;
  dispatch_float(out.dtype(), "gumbel_noise (cuda)", [&](auto tag) {
    using T = decltype(tag);
    gumbel_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.data<T>(), n, seed, offset);
    SEG_LAUNCH_CHECK("gumbel_noise (cuda)");
  });
}

void one_hot_argmax(const Tensor& x, Tensor& y, int64_t outer, int64_t size, int64_t inner) {
  NvtxRange r("one_hot_argmax");
  if (outer * inner == 0 || size == 0) return;
  dispatch_float(x.dtype(), "one_hot_argmax (cuda)", [&](auto tag) {
    using T = decltype(tag);
    one_hot_argmax_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), outer, size, inner);
    SEG_LAUNCH_CHECK("one_hot_argmax (cuda)");
  });
}

}  // namespace seg::cuda
