// CUDA batch norm and group norm (kernels/norm_cuda.h), hand-written, in the CPU's three steps with norm_math.h's
// formulas: (1) per-(n, c)-plane double sums, one block per plane with a CUB block reduction — Σ(x−K), Σ(x−K)² around a
// shift K taken from the group (so the one-pass variance does not cancel when |mean| ≫ std); (2) a tiny kernel
// combining the planes of each group (a channel over the batch, or Cg channels of one sample) into mean/invstd and
// per-index coefficients; (3) one elementwise pass. The backward is the same with Σg and Σg·(x − mean).
// Key decision: keep the CPU's decomposition exactly, so both backends sum in the same order per plane and the
// tricky parts (shift, running-stat update, backward coefficients) are the shared SEG_HD functions.
#include "kernels/cuda_util.cuh"
#include "kernels/norm_cuda.h"

namespace seg::cuda {
namespace {

// Plane p's shift: the first value of the first plane of its group (bn: sample 0 of channel c; gn: first channel of
// the group). Cg = 0 selects batch norm.
__device__ __forceinline__ int64_t shift_plane(int64_t p, int64_t C, int64_t Cg) {
  return Cg == 0 ? p % C : p - (p % C) % Cg;
}

template <class T>
__global__ void plane_moments_kernel(const T* x, int64_t planes, int64_t C, int64_t S, int64_t Cg, double* s1, double* s2) {
  __shared__ typename BlockSum::TempStorage tmp;
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const T* xp = x + p * S;
    const double k = S ? static_cast<double>(x[shift_plane(p, C, Cg) * S]) : 0.0;
    double a = 0, b = 0;
    for (int64_t i = threadIdx.x; i < S; i += blockDim.x) {
      const double d = static_cast<double>(xp[i]) - k;
      a += d;
      b += d * d;
    }
    const double sa = block_sum(a, tmp);
    const double sb = block_sum(b, tmp);
    if (threadIdx.x == 0) {
      s1[p] = sa;
      s2[p] = sb;
    }
  }
}

// sg[p] = Σ g, sgx[p] = Σ g·(x − mean of p's group).
template <class T>
__global__ void plane_grad_sums_kernel(const T* x, const T* g, const T* mean_t, int64_t planes, int64_t C, int64_t S,
                                       int64_t G, double* sg, double* sgx) {
  __shared__ typename BlockSum::TempStorage tmp;
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const T* xp = x + p * S;
    const T* gp = g + p * S;
    const double m = static_cast<double>(G == 0 ? mean_t[p % C] : mean_t[(p / C) * G + (p % C) / (C / G)]);
    double a = 0, b = 0;
    for (int64_t i = threadIdx.x; i < S; i += blockDim.x) {
      a += static_cast<double>(gp[i]);
      b += static_cast<double>(gp[i]) * (static_cast<double>(xp[i]) - m);
    }
    const double sa = block_sum(a, tmp);
    const double sb = block_sum(b, tmp);
    if (threadIdx.x == 0) {
      sg[p] = sa;
      sgx[p] = sb;
    }
  }
}

// Per-index coefficients of the elementwise passes: index q = (i / S) % Q (Q = C for bn, N·C for gn).
struct Coeffs {
  double *mean, *a, *b, *c;  // forward: scale in a, offset in b; backward: w·invstd in a, k in b, c in c
};

template <class T>
__global__ void apply_kernel(const T* x, T* y, int64_t n, int64_t S, int64_t Q, Coeffs k) {
  SEG_GRID_STRIDE(i, n) {
    const int64_t q = (i / S) % Q;
    y[i] = norm_apply(x[i], static_cast<T>(k.mean[q]), static_cast<T>(k.a[q]), static_cast<T>(k.b[q]));
  }
}

template <class T>
__global__ void dx_kernel(const T* x, const T* g, T* dx, int64_t n, int64_t S, int64_t Q, Coeffs k) {
  SEG_GRID_STRIDE(i, n) {
    const int64_t q = (i / S) % Q;
    dx[i] = norm_dx(g[i], x[i], static_cast<T>(k.mean[q]), static_cast<T>(k.a[q]), static_cast<T>(k.b[q]),
                    static_cast<T>(k.c[q]));
  }
}

// Batch norm statistics per channel (training: from the plane sums; eval: from the running stats).
template <class T>
__global__ void bn_stats_kernel(const T* x, const double* s1, const double* s2, const T* w, const T* b, T* rm, T* rv,
                                int64_t N, int64_t C, int64_t S, bool training, double momentum, double eps, T* mo,
                                T* io, Coeffs k) {
  SEG_GRID_STRIDE(c, C) {
    double mean, invstd;
    if (training) {
      double a = 0, q = 0, var = 0;
      for (int64_t n = 0; n < N; ++n) {
        a += s1[n * C + c];
        q += s2[n * C + c];
      }
      const double M = static_cast<double>(N * S);
      norm_moments(M, S ? static_cast<double>(x[c * S]) : 0.0, a, q, mean, var);
      invstd = norm_invstd(var, eps);
      if (rm) rm[c] = static_cast<T>(norm_running_update(rm[c], mean, momentum));
      if (rv) rv[c] = static_cast<T>(norm_running_update(rv[c], var * M / (M - 1), momentum));
    } else {
      mean = rm[c];
      invstd = norm_invstd(rv[c], eps);
    }
    mo[c] = static_cast<T>(mean);
    io[c] = static_cast<T>(invstd);
    k.mean[c] = mean;
    k.a[c] = invstd * (w ? static_cast<double>(w[c]) : 1.0);
    k.b[c] = b ? static_cast<double>(b[c]) : 0.0;
  }
}

template <class T>
__global__ void bn_back_kernel(const double* sg, const double* sgx, const T* w, const T* mo, const T* io, int64_t N,
                               int64_t C, int64_t S, bool training, T* dw, T* db, Coeffs k) {
  SEG_GRID_STRIDE(c, C) {
    double a = 0, q = 0;
    for (int64_t n = 0; n < N; ++n) {
      a += sg[n * C + c];
      q += sgx[n * C + c];
    }
    const double inv = io[c], wc = w ? static_cast<double>(w[c]) : 1.0;
    if (dw) dw[c] = static_cast<T>(inv * q);
    if (db) db[c] = static_cast<T>(a);
    double kc = 0, c0 = 0;
    if (training) norm_backward_coeffs(static_cast<double>(N * S), inv, wc * a, wc * q, kc, c0);
    k.mean[c] = mo[c];
    k.a[c] = wc * inv;
    k.b[c] = kc;
    k.c[c] = c0;
  }
}

template <class T>
__global__ void gn_stats_kernel(const T* x, const double* s1, const double* s2, const T* w, const T* b, int64_t N,
                                int64_t C, int64_t S, int64_t G, double eps, T* mo, T* io, Coeffs k) {
  const int64_t Cg = C / G;
  SEG_GRID_STRIDE(ng, N * G) {
    const int64_t n = ng / G, g = ng % G, p0 = n * C + g * Cg;
    double a = 0, q = 0, mean = 0, var = 0;
    for (int64_t p = p0; p < p0 + Cg; ++p) {
      a += s1[p];
      q += s2[p];
    }
    norm_moments(static_cast<double>(Cg * S), S ? static_cast<double>(x[p0 * S]) : 0.0, a, q, mean, var);
    const double inv = norm_invstd(var, eps);
    mo[ng] = static_cast<T>(mean);
    io[ng] = static_cast<T>(inv);
    for (int64_t c = g * Cg; c < (g + 1) * Cg; ++c) {
      const int64_t p = n * C + c;
      k.mean[p] = mean;
      k.a[p] = inv * (w ? static_cast<double>(w[c]) : 1.0);
      k.b[p] = b ? static_cast<double>(b[c]) : 0.0;
    }
  }
}

template <class T>
__global__ void gn_back_kernel(const double* sg, const double* sgx, const T* w, const T* mo, const T* io, int64_t N,
                               int64_t C, int64_t S, int64_t G, Coeffs k) {
  const int64_t Cg = C / G;
  SEG_GRID_STRIDE(ng, N * G) {
    const int64_t n = ng / G, g = ng % G;
    double a = 0, q = 0;
    for (int64_t c = g * Cg; c < (g + 1) * Cg; ++c) {
      const double wc = w ? static_cast<double>(w[c]) : 1.0;
      a += wc * sg[n * C + c];
      q += wc * sgx[n * C + c];
    }
    const double inv = io[ng];
    double kg = 0, cg = 0;
    norm_backward_coeffs(static_cast<double>(Cg * S), inv, a, q, kg, cg);
    for (int64_t c = g * Cg; c < (g + 1) * Cg; ++c) {
      const int64_t p = n * C + c;
      k.mean[p] = mo[ng];
      k.a[p] = (w ? static_cast<double>(w[c]) : 1.0) * inv;
      k.b[p] = kg;
      k.c[p] = cg;
    }
  }
}

template <class T>
__global__ void gn_param_grad_kernel(const double* sg, const double* sgx, const T* io, int64_t N, int64_t C, int64_t G,
                                     T* dw, T* db) {
  const int64_t Cg = C / G;
  SEG_GRID_STRIDE(c, C) {
    double a = 0, q = 0;
    for (int64_t n = 0; n < N; ++n) {
      a += sg[n * C + c];
      q += static_cast<double>(io[n * G + c / Cg]) * sgx[n * C + c];
    }
    if (dw) dw[c] = static_cast<T>(q);
    if (db) db[c] = static_cast<T>(a);
  }
}

// Scratch: two plane-sum arrays (P each) and four coefficient arrays (Q each), doubles.
struct Scratch {
  DeviceBuffer buf;
  double *s1, *s2;
  Coeffs k;
  Scratch(int64_t P, int64_t Q) : buf(static_cast<size_t>(2 * P + 4 * Q) * sizeof(double)) {
    double* d = buf.as<double>();
    s1 = d;
    s2 = d + P;
    k = {d + 2 * P, d + 2 * P + Q, d + 2 * P + 2 * Q, d + 2 * P + 3 * Q};
  }
};

// The launches both norms share, steps (1) and (3) of the file comment. Cg = 0 / G = 0 select batch norm; Q is the
// number of coefficient sets (C for batch norm, N·C for group norm).
template <class T>
void launch_moments(const Tensor& x, int64_t Cg, Scratch& s, const char* op) {
  const auto [N, C, S] = ncs_of(x);
  plane_moments_kernel<T><<<grid_items(N * C), kThreads, 0, stream()>>>(x.data<T>(), N * C, C, S, Cg, s.s1, s.s2);
  SEG_LAUNCH_CHECK(op);
}
template <class T>
void launch_apply(const Tensor& x, Tensor& y, int64_t Q, const Scratch& s, const char* op) {
  if (x.numel() == 0) return;
  apply_kernel<T><<<grid_for(x.numel()), kThreads, 0, stream()>>>(x.data<T>(), y.data<T>(), x.numel(), ncs_of(x).S, Q,
                                                                  s.k);
  SEG_LAUNCH_CHECK(op);
}
template <class T>
void launch_grad_sums(const Tensor& x, const Tensor& dy, const Tensor& mean, int64_t G, Scratch& s, const char* op) {
  const auto [N, C, S] = ncs_of(x);
  plane_grad_sums_kernel<T><<<grid_items(N * C), kThreads, 0, stream()>>>(x.data<T>(), dy.data<T>(), mean.data<T>(),
                                                                           N * C, C, S, G, s.s1, s.s2);
  SEG_LAUNCH_CHECK(op);
}
template <class T>
void launch_dx(const Tensor& x, const Tensor& dy, Tensor& dx, int64_t Q, const Scratch& s, const char* op) {
  if (!dx.defined() || x.numel() == 0) return;
  dx_kernel<T><<<grid_for(x.numel()), kThreads, 0, stream()>>>(x.data<T>(), dy.data<T>(), dx.data<T>(), x.numel(),
                                                               ncs_of(x).S, Q, s.k);
  SEG_LAUNCH_CHECK(op);
}

template <class T>
void bn_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& rm, const Tensor& rv,
                bool training, double momentum, double eps, Tensor& y, Tensor& mean, Tensor& invstd, const char* op) {
  const auto [N, C, S] = ncs_of(x);
  if (C == 0) return;
  Scratch s(N * C, C);
  if (training && N * C > 0) launch_moments<T>(x, 0, s, op);
  bn_stats_kernel<T><<<grid_for(C), kThreads, 0, stream()>>>(x.data<T>(), s.s1, s.s2, opt_data<T>(weight),
                                                             opt_data<T>(bias), opt_data<T>(rm), opt_data<T>(rv), N, C,
                                                             S, training, momentum, eps, mean.data<T>(),
                                                             invstd.data<T>(), s.k);
  SEG_LAUNCH_CHECK(op);
  launch_apply<T>(x, y, C, s, op);
}

template <class T>
void bn_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean, const Tensor& invstd,
                 bool training, Tensor& dx, Tensor& dweight, Tensor& dbias, const char* op) {
  const auto [N, C, S] = ncs_of(x);
  if (C == 0) return;
  Scratch s(N * C, C);
  if (N * C > 0) launch_grad_sums<T>(x, dy, mean, 0, s, op);
  bn_back_kernel<T><<<grid_for(C), kThreads, 0, stream()>>>(s.s1, s.s2, opt_data<T>(weight), mean.data<T>(),
                                                            invstd.data<T>(), N, C, S, training, opt_data<T>(dweight),
                                                            opt_data<T>(dbias), s.k);
  SEG_LAUNCH_CHECK(op);
  launch_dx<T>(x, dy, dx, C, s, op);
}

template <class T>
void gn_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t G, double eps, Tensor& y,
                Tensor& mean, Tensor& invstd, const char* op) {
  const auto [N, C, S] = ncs_of(x);
  if (N * C == 0 || G == 0) return;
  Scratch s(N * C, N * C);
  launch_moments<T>(x, C / G, s, op);
  gn_stats_kernel<T><<<grid_for(N * G), kThreads, 0, stream()>>>(x.data<T>(), s.s1, s.s2, opt_data<T>(weight),
                                                                 opt_data<T>(bias), N, C, S, G, eps, mean.data<T>(),
                                                                 invstd.data<T>(), s.k);
  SEG_LAUNCH_CHECK(op);
  launch_apply<T>(x, y, N * C, s, op);
}

template <class T>
void gn_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean, const Tensor& invstd,
                 int64_t G, Tensor& dx, Tensor& dweight, Tensor& dbias, const char* op) {
  const auto [N, C, S] = ncs_of(x);
  if (N * C == 0 || G == 0) {
    if (dweight.defined()) cuda_memset_zero(dweight.raw(), static_cast<size_t>(dweight.numel()) * sizeof(T));
    if (dbias.defined()) cuda_memset_zero(dbias.raw(), static_cast<size_t>(dbias.numel()) * sizeof(T));
    return;
  }
  Scratch s(N * C, N * C);
  launch_grad_sums<T>(x, dy, mean, G, s, op);
  if (dweight.defined() || dbias.defined()) {
    gn_param_grad_kernel<T><<<grid_for(C), kThreads, 0, stream()>>>(s.s1, s.s2, invstd.data<T>(), N, C, G,
                                                                    opt_data<T>(dweight), opt_data<T>(dbias));
    SEG_LAUNCH_CHECK(op);
  }
  if (dx.defined() && x.numel() > 0) {
    gn_back_kernel<T><<<grid_for(N * G), kThreads, 0, stream()>>>(s.s1, s.s2, opt_data<T>(weight), mean.data<T>(),
                                                                  invstd.data<T>(), N, C, S, G, s.k);
    SEG_LAUNCH_CHECK(op);
    launch_dx<T>(x, dy, dx, N * C, s, op);
  }
}

}  // namespace

// The launchers: an NVTX range and the dtype dispatch around the implementations above.
void batch_norm_forward_train(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& y, Tensor& mean,
                              Tensor& invstd, Tensor& running_mean, Tensor& running_var, double momentum, double eps) {
  NvtxRange r("batch_norm_forward");
  dispatch_float(x.dtype(), "batch_norm (cuda)", [&](auto tag) {
    bn_forward<decltype(tag)>(x, weight, bias, running_mean, running_var, true, momentum, eps, y, mean, invstd,
                              "batch_norm (cuda)");
  });
}

void batch_norm_forward_eval(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                             const Tensor& running_var, Tensor& y, Tensor& mean, Tensor& invstd, double eps) {
  NvtxRange r("batch_norm_forward_eval");
  dispatch_float(x.dtype(), "batch_norm (cuda)", [&](auto tag) {
    bn_forward<decltype(tag)>(x, weight, bias, running_mean, running_var, false, 0.0, eps, y, mean, invstd,
                              "batch_norm eval (cuda)");
  });
}

void batch_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean,
                         const Tensor& invstd, bool training, Tensor& dx, Tensor& dweight, Tensor& dbias) {
  NvtxRange r("batch_norm_backward");
  dispatch_float(x.dtype(), "batch_norm backward (cuda)", [&](auto tag) {
    bn_backward<decltype(tag)>(x, weight, dy, mean, invstd, training, dx, dweight, dbias, "batch_norm backward (cuda)");
  });
}

void group_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t num_groups, double eps,
                        Tensor& y, Tensor& mean, Tensor& invstd) {
  NvtxRange r("group_norm_forward");
  dispatch_float(x.dtype(), "group_norm (cuda)", [&](auto tag) {
    gn_forward<decltype(tag)>(x, weight, bias, num_groups, eps, y, mean, invstd, "group_norm (cuda)");
  });
}

void group_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean,
                         const Tensor& invstd, int64_t num_groups, Tensor& dx, Tensor& dweight, Tensor& dbias) {
  NvtxRange r("group_norm_backward");
  dispatch_float(x.dtype(), "group_norm backward (cuda)", [&](auto tag) {
    gn_backward<decltype(tag)>(x, weight, dy, mean, invstd, num_groups, dx, dweight, dbias,
                               "group_norm backward (cuda)");
  });
}

}  // namespace seg::cuda
