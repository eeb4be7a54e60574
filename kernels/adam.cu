// CUDA fused Adam (kernels/adam_cuda.h): one grid-stride kernel per parameter tensor reads p, g, m, v once and
// writes p, m, v once, with adam_update from adam_math.h (the CPU loop's formula, in the parameter's precision).
#include <cmath>

#include "kernels/adam_cuda.h"
#include "kernels/adam_math.h"
#include "kernels/cuda_util.cuh"

namespace seg::cuda {
namespace {

template <class T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps,
                            double wd, double bc1, double bc2) {
  SEG_GRID_STRIDE(i, n) {
    T pi = p[i], mi = m[i], vi = v[i];
    adam_update(pi, g[i], mi, vi, lr, b1, b2, eps, wd, bc1, bc2);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
               double eps, double weight_decay, int64_t step) {
  NvtxRange r("adam_step");
  SEG_CHECK(grad.is_cuda() && m.is_cuda() && v.is_cuda(), "adam_step (cuda): parameter ", param.describe(),
            " has state or gradient off the GPU");
  SEG_CHECK(grad.shape() == param.shape() && grad.dtype() == param.dtype(), "adam_step (cuda): gradient ",
            grad.describe(), " does not match the parameter ", param.describe());
  const int64_t n = param.numel();
  if (n == 0) return;
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step)), bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  dispatch_float(param.dtype(), "adam_step (cuda)", [&](auto tag) {
    using T = decltype(tag);
    adam_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(), n,
                                                           lr, beta1, beta2, eps, weight_decay, bc1, bc2);
    SEG_LAUNCH_CHECK("adam_step (cuda)");
  });
}

}  // namespace seg::cuda
