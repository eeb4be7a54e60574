// Batch norm and group norm on the CPU and their autograd wiring (formulas in norm_math.h).
// Both are computed the same way: per-(n, c)-plane double sums in parallel over the N·C planes (so a batch of one
// large image still uses every core), combined serially per normalisation group (tiny), then one parallel pass that
// applies (x − mean)·invstd·w + b per plane. The forward saves the group mean and invstd; the backward makes two
// passes over (x, dy): the plane sums of dy and dy·(x − mean), then dx.
#include "kernels/norm.h"

#include <vector>

#include "engine/autograd.h"
#include "kernels/elementwise.h"
#include "kernels/norm_cuda.h"
#include "kernels/op_util.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"

namespace seg {

namespace {

// The plane sums below keep kLanes independent double accumulators (combined at the end): one running sum is a chain
// of dependent additions the compiler may not reorder, which left the BatchNorm passes of a 256² CNN at about a
// quarter of memory speed; independent lanes vectorise.
constexpr int kLanes = 8;

// s1[p] = Σ (x − shift[p]), s2[p] = Σ (x − shift[p])² over plane p of S values.
template <class T>
void plane_moments(const T* x, int64_t planes, int64_t S, const std::vector<double>& shift, std::vector<double>& s1,
                   std::vector<double>& s2) {
  s1.assign(static_cast<size_t>(planes), 0.0);
  s2.assign(static_cast<size_t>(planes), 0.0);
#pragma omp parallel for if (planes * S > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * S;
    const double k = shift[static_cast<size_t>(p)];
    double a[kLanes] = {}, b[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= S; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        const double d = static_cast<double>(xp[i + j]) - k;
        a[j] += d;
        b[j] += d * d;
      }
    for (; i < S; ++i) {
      const double d = static_cast<double>(xp[i]) - k;
      a[0] += d;
      b[0] += d * d;
    }
    double sa = 0, sb = 0;
    for (int j = 0; j < kLanes; ++j) sa += a[j], sb += b[j];
    s1[static_cast<size_t>(p)] = sa;
    s2[static_cast<size_t>(p)] = sb;
  }
}

// sg[p] = Σ g, sgx[p] = Σ g·(x − mean[p]) over plane p.
template <class T>
void plane_grad_sums(const T* x, const T* g, int64_t planes, int64_t S, const std::vector<double>& mean,
                     std::vector<double>& sg, std::vector<double>& sgx) {
  sg.assign(static_cast<size_t>(planes), 0.0);
  sgx.assign(static_cast<size_t>(planes), 0.0);
#pragma omp parallel for if (planes * S > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * S;
    const T* gp = g + p * S;
    const double m = mean[static_cast<size_t>(p)];
    double a[kLanes] = {}, b[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= S; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        const double gv = static_cast<double>(gp[i + j]);
        a[j] += gv;
        b[j] += gv * (static_cast<double>(xp[i + j]) - m);
      }
    for (; i < S; ++i) {
      const double gv = static_cast<double>(gp[i]);
      a[0] += gv;
      b[0] += gv * (static_cast<double>(xp[i]) - m);
    }
    double sa = 0, sb = 0;
    for (int j = 0; j < kLanes; ++j) sa += a[j], sb += b[j];
    sg[static_cast<size_t>(p)] = sa;
    sgx[static_cast<size_t>(p)] = sb;
  }
}

// The forward's last pass, per plane p of channel c: y = (x − mean[p])·scale[p] + offset[p] with
// scale = invstd·w[c] and offset = b[c] (1 and 0 without affine parameters).
struct PlaneAffine {
  std::vector<double> mean, scale, offset;
  explicit PlaneAffine(int64_t planes)
      : mean(static_cast<size_t>(planes)), scale(static_cast<size_t>(planes)), offset(static_cast<size_t>(planes)) {}
  template <class T>
  void set(int64_t p, int64_t c, double m, double invstd, const T* w, const T* b) {
    const size_t q = static_cast<size_t>(p);
    mean[q] = m;
    scale[q] = invstd * (w ? w[c] : 1.0);
    offset[q] = b ? b[c] : 0.0;
  }
};

template <class T>
void plane_apply(const T* x, T* y, int64_t planes, int64_t S, const PlaneAffine& k) {
#pragma omp parallel for if (planes * S > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const size_t q = static_cast<size_t>(p);
    const T m = static_cast<T>(k.mean[q]), a = static_cast<T>(k.scale[q]), b = static_cast<T>(k.offset[q]);
    const T* xp = x + p * S;
    T* yp = y + p * S;
    for (int64_t i = 0; i < S; ++i) yp[i] = norm_apply(xp[i], m, a, b);
  }
}

// dx = norm_dx(g, x, mean[p], w_invstd[p], k[p], c[p]) per plane.
template <class T>
void plane_dx(const T* x, const T* g, T* dx, int64_t planes, int64_t S, const std::vector<double>& mean,
              const std::vector<double>& w_invstd, const std::vector<double>& k, const std::vector<double>& c) {
#pragma omp parallel for if (planes * S > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const size_t q = static_cast<size_t>(p);
    const T m = static_cast<T>(mean[q]), wi = static_cast<T>(w_invstd[q]), kk = static_cast<T>(k[q]),
            cc = static_cast<T>(c[q]);
    const T* xp = x + p * S;
    const T* gp = g + p * S;
    T* dp = dx + p * S;
    for (int64_t i = 0; i < S; ++i) dp[i] = norm_dx(gp[i], xp[i], m, wi, kk, cc);
  }
}

// The backward's two passes over (x, dy), per plane p: first the sums sg = Σg and sgx = Σg·(x − mean[p]), then, once
// the family has set each plane's coefficients, dx = norm_dx(g, x, mean[p], w_invstd[p], k[p], c[p]).
struct PlaneBackward {
  int64_t planes = 0, S = 0;
  std::vector<double> mean, sg, sgx, w_invstd, k, c;
  void set(int64_t p, double wi, double kk, double cc) {
    const size_t q = static_cast<size_t>(p);
    w_invstd[q] = wi;
    k[q] = kk;
    c[q] = cc;
  }
};

// The first pass; mean_of(p) is the mean of plane p's normalisation group.
template <class T, class MeanOf>
PlaneBackward first_backward_pass(const Tensor& x, const Tensor& dy, MeanOf mean_of) {
  const auto [N, C, S] = ncs_of(x);
  PlaneBackward b;
  b.planes = N * C;
  b.S = S;
  const size_t P = static_cast<size_t>(b.planes);
  b.mean.resize(P);
  for (int64_t p = 0; p < b.planes; ++p) b.mean[static_cast<size_t>(p)] = mean_of(p);
  plane_grad_sums(x.data<T>(), dy.data<T>(), b.planes, S, b.mean, b.sg, b.sgx);
  b.w_invstd.assign(P, 0.0);
  b.k.assign(P, 0.0);
  b.c.assign(P, 0.0);
  return b;
}

template <class T>
void second_backward_pass(const Tensor& x, const Tensor& dy, const PlaneBackward& b, Tensor& dx) {
  if (dx.defined()) plane_dx(x.data<T>(), dy.data<T>(), dx.data<T>(), b.planes, b.S, b.mean, b.w_invstd, b.k, b.c);
}

void check_param(const Tensor& p, const Tensor& x, int64_t C, const char* op, const char* arg) {
  if (!p.defined()) return;
  check_float(p, op, arg);
  check_same_dtype_device(p, x, op);
  SEG_CHECK(p.dim() == 1 && p.size(0) == C, op, ": ", arg, " must be (", C, "), got ", p.describe());
}

// ---------------------------------------------------------------- batch norm
template <class T>
void bn_forward_cpu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& rm, const Tensor& rv,
                    bool training, double momentum, double eps, Tensor& y, Tensor& mean_t, Tensor& invstd_t) {
  const auto [N, C, S] = ncs_of(x);
  const T* xp = x.data<T>();
  const T* w = opt_data<T>(weight);
  const T* b = opt_data<T>(bias);
  T* mo = mean_t.data<T>();
  T* io = invstd_t.data<T>();
  std::vector<double> mean(static_cast<size_t>(C)), invstd(static_cast<size_t>(C));
  if (training) {
    std::vector<double> shift(static_cast<size_t>(N * C)), s1, s2;
    for (int64_t p = 0; p < N * C; ++p) shift[static_cast<size_t>(p)] = S ? xp[(p % C) * S] : 0.0;
    plane_moments(xp, N * C, S, shift, s1, s2);
    const double M = static_cast<double>(N * S);
    T* rmp = opt_data<T>(rm);
    T* rvp = opt_data<T>(rv);
    for (int64_t c = 0; c < C; ++c) {
      double a = 0, q = 0, var = 0;
      for (int64_t n = 0; n < N; ++n) {
        a += s1[static_cast<size_t>(n * C + c)];
        q += s2[static_cast<size_t>(n * C + c)];
      }
      norm_moments(M, shift[static_cast<size_t>(c)], a, q, mean[static_cast<size_t>(c)], var);
      invstd[static_cast<size_t>(c)] = norm_invstd(var, eps);
      if (rmp) rmp[c] = static_cast<T>(norm_running_update(rmp[c], mean[static_cast<size_t>(c)], momentum));
      if (rvp) rvp[c] = static_cast<T>(norm_running_update(rvp[c], var * M / (M - 1), momentum));
    }
  } else {
    const T* rmp = rm.data<T>();
    const T* rvp = rv.data<T>();
    for (int64_t c = 0; c < C; ++c) {
      mean[static_cast<size_t>(c)] = rmp[c];
      invstd[static_cast<size_t>(c)] = norm_invstd(rvp[c], eps);
    }
  }
  PlaneAffine k(N * C);
  for (int64_t c = 0; c < C; ++c) {
    const size_t ci = static_cast<size_t>(c);
    mo[c] = static_cast<T>(mean[ci]);
    io[c] = static_cast<T>(invstd[ci]);
    for (int64_t n = 0; n < N; ++n) k.set(n * C + c, c, mean[ci], invstd[ci], w, b);
  }
  plane_apply(xp, y.data<T>(), N * C, S, k);
}

template <class T>
void bn_backward_cpu(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean_t,
                     const Tensor& invstd_t, bool training, Tensor& dx, Tensor& dw, Tensor& db) {
  const auto [N, C, S] = ncs_of(x);
  const T* w = opt_data<T>(weight);
  const T* mo = mean_t.data<T>();
  const T* io = invstd_t.data<T>();
  PlaneBackward pb = first_backward_pass<T>(x, dy, [&](int64_t p) { return static_cast<double>(mo[p % C]); });
  const double M = static_cast<double>(N * S);
  for (int64_t c = 0; c < C; ++c) {
    double a = 0, q = 0;
    for (int64_t n = 0; n < N; ++n) {
      a += pb.sg[static_cast<size_t>(n * C + c)];
      q += pb.sgx[static_cast<size_t>(n * C + c)];
    }
    const double inv = io[c], wc = w ? w[c] : 1.0;
    if (dw.defined()) dw.data<T>()[c] = static_cast<T>(inv * q);
    if (db.defined()) db.data<T>()[c] = static_cast<T>(a);
    double kc = 0, c0 = 0;
    if (training) norm_backward_coeffs(M, inv, wc * a, wc * q, kc, c0);
    for (int64_t n = 0; n < N; ++n) pb.set(n * C + c, wc * inv, kc, c0);
  }
  second_backward_pass<T>(x, dy, pb, dx);
}

// ---------------------------------------------------------------- group norm
template <class T>
void gn_forward_cpu(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t G, double eps, Tensor& y,
                    Tensor& mean_t, Tensor& invstd_t) {
  const auto [N, C, S] = ncs_of(x);
  const int64_t Cg = C / G;
  const T* xp = x.data<T>();
  const T* w = opt_data<T>(weight);
  const T* b = opt_data<T>(bias);
  const size_t P = static_cast<size_t>(N * C);
  std::vector<double> shift(P), s1, s2;
  for (int64_t p = 0; p < N * C; ++p) shift[static_cast<size_t>(p)] = S ? xp[(p - (p % C) % Cg) * S] : 0.0;
  plane_moments(xp, N * C, S, shift, s1, s2);
  PlaneAffine k(N * C);
  const double M = static_cast<double>(Cg * S);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      const int64_t p0 = n * C + g * Cg;
      double a = 0, q = 0, mean = 0, var = 0;
      for (int64_t p = p0; p < p0 + Cg; ++p) {
        a += s1[static_cast<size_t>(p)];
        q += s2[static_cast<size_t>(p)];
      }
      norm_moments(M, shift[static_cast<size_t>(p0)], a, q, mean, var);
      const double inv = norm_invstd(var, eps);
      mean_t.data<T>()[n * G + g] = static_cast<T>(mean);
      invstd_t.data<T>()[n * G + g] = static_cast<T>(inv);
      for (int64_t c = g * Cg; c < (g + 1) * Cg; ++c) k.set(n * C + c, c, mean, inv, w, b);
    }
  plane_apply(xp, y.data<T>(), N * C, S, k);
}

template <class T>
void gn_backward_cpu(const Tensor& x, const Tensor& weight, const Tensor& dy, const Tensor& mean_t,
                     const Tensor& invstd_t, int64_t G, Tensor& dx, Tensor& dw, Tensor& db) {
  const auto [N, C, S] = ncs_of(x);
  const int64_t Cg = C / G;
  const T* w = opt_data<T>(weight);
  const T* mo = mean_t.data<T>();
  const T* io = invstd_t.data<T>();
  PlaneBackward pb =
      first_backward_pass<T>(x, dy, [&](int64_t p) { return static_cast<double>(mo[(p / C) * G + (p % C) / Cg]); });
  const double M = static_cast<double>(Cg * S);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      double a = 0, q = 0;
      for (int64_t c = g * Cg; c < (g + 1) * Cg; ++c) {
        const double wc = w ? w[c] : 1.0;
        a += wc * pb.sg[static_cast<size_t>(n * C + c)];
        q += wc * pb.sgx[static_cast<size_t>(n * C + c)];
      }
      const double inv = io[n * G + g];
      double kg = 0, cg = 0;
      norm_backward_coeffs(M, inv, a, q, kg, cg);
      for (int64_t c = g * Cg; c < (g + 1) * Cg; ++c) pb.set(n * C + c, (w ? w[c] : 1.0) * inv, kg, cg);
    }
  if (dw.defined() || db.defined()) {
    for (int64_t c = 0; c < C; ++c) {
      double a = 0, q = 0;
      for (int64_t n = 0; n < N; ++n) {
        const size_t p = static_cast<size_t>(n * C + c);
        a += pb.sg[p];
        q += io[n * G + c / Cg] * pb.sgx[p];
      }
      if (dw.defined()) dw.data<T>()[c] = static_cast<T>(q);
      if (db.defined()) db.data<T>()[c] = static_cast<T>(a);
    }
  }
  second_backward_pass<T>(x, dy, pb, dx);
}

// The backward node both norms share: buffers for the gradients asked for (dx like x; dweight, dbias of C values),
// filled by the family's backward `make_run()` returns: run(dy, dx, dweight, dbias).
template <class MakeRun>
Tensor record_norm(const char* op, const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                   MakeRun&& make_run) {
  return record(op, y, {x, weight, bias}, [&] {
    return [run = make_run(), shape = x.shape(), C = x.size(1), need_x = input_needs_grad(x),
            need_w = input_needs_grad(weight),
            need_b = input_needs_grad(bias)](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = grad_buffer(need_x, shape, g), dw = grad_buffer(need_w, {C}, g), db = grad_buffer(need_b, {C}, g);
      run(g, dx, dw, db);
      return {dx, dw, db};
    };
  });
}

// ---------------------------------------------------------------- synchronised batch norm (see norm.h)
// The global statistics are combined from each replica's (count, mean, M2 = Σ(x − mean)²) — Chan et al.'s pairwise
// formula, exact in double whatever the replicas' means — and applied by the evaluation-mode kernel; the backward
// runs the evaluation-mode kernel too (dx = w·invstd·g plus the local sums Σg and Σg·(x − mean)), sums those over the
// replicas and subtracts (x − mean)·k + c with the global k and c of norm_math.h. Everything beyond the two kernels is
// composed of existing ops, so the CPU and CUDA paths are one code path (and the CPU tests cover it).

thread_local std::shared_ptr<BatchNormSync> g_bn_sync;

// Per-channel mean and M2 of x (N, C, ...), two passes with double accumulation (kernels/reduce.h).
void local_moments(const Tensor& x, std::vector<double>& mean_out, std::vector<double>& m2_out) {
  NoGradGuard ng;
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  Shape bs(static_cast<size_t>(x.dim()), 1);
  bs[1] = x.size(1);
  const Tensor m = mean(x, dims);
  const Tensor q = sum(square(sub(x, reshape(m, bs))), dims);
  mean_out = m.to_vector();
  m2_out = q.to_vector();
}

Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, double momentum, double eps, std::shared_ptr<BatchNormSync> sync) {
  const char* op = "batch_norm (synchronised)";
  const int64_t C = x.size(1);
  const size_t Cs = static_cast<size_t>(C);
  std::vector<double> lm, lq;
  local_moments(x, lm, lq);
  std::vector<double> local(1 + 2 * Cs);
  local[0] = static_cast<double>(x.numel() / C);
  for (size_t c = 0; c < Cs; ++c) {
    local[1 + c] = lm[c];
    local[1 + Cs + c] = lq[c];
  }
  const std::vector<double> all = sync->all_gather(local);
  SEG_CHECK(!all.empty() && all.size() % local.size() == 0, op, ": the replicas gathered ", all.size(),
            " values, expected a multiple of ", local.size(), " (a different channel count on another replica?)");
  std::vector<double> gm(Cs, 0.0), gq(Cs, 0.0);
  double n = 0;
  for (size_t r = 0; r < all.size() / local.size(); ++r) {
    const double* v = all.data() + r * local.size();
    const double nb = v[0];
    if (nb <= 0) continue;
    for (size_t c = 0; c < Cs; ++c) {
      const double delta = v[1 + c] - gm[c];
      gm[c] += delta * nb / (n + nb);
      gq[c] += v[1 + Cs + c] + delta * delta * n * nb / (n + nb);
    }
    n += nb;
  }
  SEG_CHECK(n > 1, op, ": expected more than 1 value per channel over the replicas, got ", n);
  std::vector<double> gvar(Cs);
  for (size_t c = 0; c < Cs; ++c) gvar[c] = gq[c] / n;
  if (running_mean.defined()) {
    std::vector<double> rm = running_mean.to_vector(), rv = running_var.to_vector();
    for (size_t c = 0; c < Cs; ++c) {
      rm[c] = norm_running_update(rm[c], gm[c], momentum);
      rv[c] = norm_running_update(rv[c], gvar[c] * n / (n - 1), momentum);
    }
    Tensor(running_mean).copy_from_(Tensor::from_vector(rm, {C}, running_mean.dtype()));
    Tensor(running_var).copy_from_(Tensor::from_vector(rv, {C}, running_var.dtype()));
  }
  const Tensor gmean = Tensor::from_vector(gm, {C}, x.dtype()).to(x.device());
  const Tensor gvar_t = Tensor::from_vector(gvar, {C}, x.dtype()).to(x.device());
  Tensor y = empty_like(x);
  Tensor mean_t = Tensor::empty({C}, x.dtype(), x.device()), invstd_t = Tensor::empty({C}, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::batch_norm_forward_eval(x, weight, bias, gmean, gvar_t, y, mean_t, invstd_t, eps); },
      [&](auto tag) { bn_forward_cpu<decltype(tag)>(x, weight, bias, gmean, gvar_t, false, 0.0, eps, y, mean_t, invstd_t); });
  return record_norm(op, y, x, weight, bias, [&] {
    return [xs = x.detach(), w = saved(weight), mean_t, invstd_t, n, sync, op](const Tensor& g, Tensor& dx, Tensor& dw,
                                                                              Tensor& db) {
      const int64_t C = xs.size(1);
      const size_t Cs = static_cast<size_t>(C);
      Tensor dwl = dw.defined() ? dw : Tensor::empty({C}, g.dtype(), g.device());
      Tensor dbl = db.defined() ? db : Tensor::empty({C}, g.dtype(), g.device());
      on_device(
          g, op, [&] { cuda::batch_norm_backward(xs, w, g, mean_t, invstd_t, false, dx, dwl, dbl); },
          [&](auto tag) { bn_backward_cpu<decltype(tag)>(xs, w, g, mean_t, invstd_t, false, dx, dwl, dbl); });
      if (!dx.defined()) return;  // (the same on every replica: the graph is the same)
      const std::vector<double> inv = invstd_t.to_vector(), a = dbl.to_vector(), qs = dwl.to_vector();
      std::vector<double> sums(2 * Cs);
      for (size_t c = 0; c < Cs; ++c) {
        sums[c] = a[c];
        sums[Cs + c] = qs[c] / inv[c];  // dw = invstd·Σg(x − mean)
      }
      sync->all_reduce_sum(sums);
      const std::vector<double> wv = w.defined() ? w.to_vector() : std::vector<double>(Cs, 1.0);
      std::vector<double> k(Cs), c0(Cs);
      for (size_t c = 0; c < Cs; ++c) norm_backward_coeffs(n, inv[c], wv[c] * sums[c], wv[c] * sums[Cs + c], k[c], c0[c]);
      Shape bs(static_cast<size_t>(xs.dim()), 1);
      bs[1] = C;
      const Tensor kt = reshape(Tensor::from_vector(k, {C}, g.dtype()).to(g.device()), bs);
      const Tensor ct = reshape(Tensor::from_vector(c0, {C}, g.dtype()).to(g.device()), bs);
      dx.copy_from_(sub(dx, add(mul(sub(xs, reshape(mean_t, bs)), kt), ct)));
    };
  });
}

}  // namespace

BatchNormSyncScope::BatchNormSyncScope(std::shared_ptr<BatchNormSync> sync) : prev_(std::move(g_bn_sync)) {
  g_bn_sync = std::move(sync);
}
BatchNormSyncScope::~BatchNormSyncScope() { g_bn_sync = std::move(prev_); }
std::shared_ptr<BatchNormSync> batch_norm_sync() { return g_bn_sync; }

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_float(x, op, "input");
  SEG_CHECK(x.dim() >= 2, op, ": expected an input (N, C, ...), got ", x.describe());
  const auto [N, C, S] = ncs_of(x);
  check_param(weight, x, C, op, "weight");
  check_param(bias, x, C, op, "bias");
  check_param(running_mean, x, C, op, "running_mean");
  check_param(running_var, x, C, op, "running_var");
  SEG_CHECK(running_mean.defined() == running_var.defined(), op,
            ": running_mean and running_var must be both defined or both undefined");
  SEG_CHECK(training || running_mean.defined(), op, ": evaluation mode needs running_mean and running_var");
  SEG_CHECK(!training || N * S > 1, op, ": expected more than 1 value per channel when training, got input ",
            x.describe());
  SEG_CHECK(eps >= 0, op, ": eps must be non-negative, got ", eps);
  if (training && g_bn_sync) return sync_batch_norm(x, weight, bias, running_mean, running_var, momentum, eps, g_bn_sync);
  Tensor y = empty_like(x);
  Tensor mean = Tensor::empty({C}, x.dtype(), x.device()), invstd = Tensor::empty({C}, x.dtype(), x.device());
  Tensor rm = running_mean, rv = running_var;
  on_device(
      x, op,
      [&] {
        if (training) cuda::batch_norm_forward_train(x, weight, bias, y, mean, invstd, rm, rv, momentum, eps);
        else cuda::batch_norm_forward_eval(x, weight, bias, rm, rv, y, mean, invstd, eps);
      },
      [&](auto tag) {
        bn_forward_cpu<decltype(tag)>(x, weight, bias, rm, rv, training, momentum, eps, y, mean, invstd);
      });
  return record_norm(op, y, x, weight, bias, [&] {
    return [xs = x.detach(), w = saved(weight), mean, invstd, training, op](const Tensor& g, Tensor& dx, Tensor& dw,
                                                                            Tensor& db) {
      on_device(
          g, op, [&] { cuda::batch_norm_backward(xs, w, g, mean, invstd, training, dx, dw, db); },
          [&](auto tag) { bn_backward_cpu<decltype(tag)>(xs, w, g, mean, invstd, training, dx, dw, db); });
    };
  });
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "group_norm";
  check_float(x, op, "input");
  SEG_CHECK(x.dim() >= 2, op, ": expected an input (N, C, ...), got ", x.describe());
  const auto [N, C, S] = ncs_of(x);
  SEG_CHECK(num_groups > 0 && C % num_groups == 0, op, ": ", C, " channels cannot be split into ", num_groups,
            " groups");
  check_param(weight, x, C, op, "weight");
  check_param(bias, x, C, op, "bias");
  SEG_CHECK(eps >= 0, op, ": eps must be non-negative, got ", eps);
  Tensor y = empty_like(x);
  Tensor mean = Tensor::empty({N, num_groups}, x.dtype(), x.device());
  Tensor invstd = Tensor::empty({N, num_groups}, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::group_norm_forward(x, weight, bias, num_groups, eps, y, mean, invstd); },
      [&](auto tag) { gn_forward_cpu<decltype(tag)>(x, weight, bias, num_groups, eps, y, mean, invstd); });
  return record_norm(op, y, x, weight, bias, [&] {
    return [xs = x.detach(), w = saved(weight), mean, invstd, num_groups, op](const Tensor& g, Tensor& dx, Tensor& dw,
                                                                              Tensor& db) {
      on_device(
          g, op, [&] { cuda::group_norm_backward(xs, w, g, mean, invstd, num_groups, dx, dw, db); },
          [&](auto tag) { gn_backward_cpu<decltype(tag)>(xs, w, g, mean, invstd, num_groups, dx, dw, db); });
    };
  });
}

}  // namespace seg
