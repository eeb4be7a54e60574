// Fused losses on the CPU and their autograd wiring (formulas: kernels/fused_losses_math.h). Reductions run in
// double with OpenMP (balanced BCE over elements; Dice over (n, k) planes, combined per class afterwards).
#include "kernels/fused_losses.h"

#include <vector>

#include "engine/autograd.h"
#include "kernels/fused_losses_cuda.h"
#include "kernels/op_util.h"

namespace seg {

// ---------------------------------------------------------------- balanced BCE with logits
Tensor balanced_bce_with_logits(const Tensor& logits, const Tensor& target) {
  const char* op = "balanced_bce_with_logits";
  check_float(logits, op, "logits");
  check_float(target, op, "target");
  check_same_dtype_device(logits, target, op);
  check_same_shape(logits, target, op);
  const int64_t n = logits.numel();
  SEG_CHECK(n > 0, op, ": empty input");
  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  Tensor beta = Tensor::empty({}, DType::Float64, logits.device());
  on_device(
      logits, op, [&] { cuda::balanced_bce_forward(logits, target, loss, beta); },
      [&](auto tag) {
        using T = decltype(tag);
        const T* x = logits.data<T>();
        const T* t = target.data<T>();
        double s1 = 0, s0 = 0;
        int64_t zeros = 0, bad = 0;
#pragma omp parallel for reduction(+ : s1, s0, zeros, bad) if (n > kParallelGrain)
        for (int64_t i = 0; i < n; ++i) {
          const double tv = static_cast<double>(t[i]);
          zeros += tv == 0.0;
          bad += tv != 0.0 && tv != 1.0;
          balanced_bce_terms(static_cast<double>(x[i]), tv, &s1, &s0);
        }
        SEG_CHECK(bad == 0, op, ": target must hold only 0 and 1 (", bad, " other values)");
        const double b = static_cast<double>(zeros) / static_cast<double>(n);
        beta.data<double>()[0] = b;
        loss.data<T>()[0] = static_cast<T>(-(b * s1 + (1.0 - b) * s0) / static_cast<double>(n));
      });
  return record(op, loss, {logits, target}, [&] {
    return [x = logits.detach(), t = target.detach(), beta, op](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = empty_like(x);
      on_device(
          g, op, [&] { cuda::balanced_bce_backward(x, t, beta, g, dx); },
          [&](auto tag) {
            using T = decltype(tag);
            const int64_t m = x.numel();
            const double b = beta.data<double>()[0], gn = g.item() / static_cast<double>(m);
            const T* xp = x.data<T>();
            const T* tp = t.data<T>();
            T* d = dx.data<T>();
#pragma omp parallel for if (m > kParallelGrain)
            for (int64_t i = 0; i < m; ++i)
              d[i] = static_cast<T>(balanced_bce_grad(static_cast<double>(xp[i]), static_cast<double>(tp[i]), b, gn));
          });
      return {dx, Tensor()};
    };
  });
}

// ---------------------------------------------------------------- Dice
Tensor dice_loss(const Tensor& p, const Tensor& target, double eps) {
  const char* op = "dice_loss";
  check_float(p, op, "p");
  check_float(target, op, "target");
  check_same_dtype_device(p, target, op);
  check_same_shape(p, target, op);
  SEG_CHECK(p.dim() >= 2 && p.size(1) > 0 && p.numel() > 0, op, ": p must be (N, K, ...) and non-empty, got ",
            p.describe());
  SEG_CHECK(eps >= 0, op, ": eps must be non-negative, got ", eps);
  const int64_t N = p.size(0), K = p.size(1), S = p.numel() / (N * K);
  Tensor sums = Tensor::empty({K, 3}, DType::Float64, p.device());
  Tensor loss = Tensor::empty({}, p.dtype(), p.device());
  on_device(
      p, op, [&] { cuda::dice_forward(p, target, sums, loss, eps); },
      [&](auto tag) {
        using T = decltype(tag);
        const T* pp = p.data<T>();
        const T* gp = target.data<T>();
        std::vector<double> part(static_cast<size_t>(N * K * 3));
#pragma omp parallel for schedule(static) if (N * K * S > kParallelGrain)
        for (int64_t pl = 0; pl < N * K; ++pl) {
          double I = 0, P = 0, G = 0;
          const T* a = pp + pl * S;
          const T* b = gp + pl * S;
          for (int64_t i = 0; i < S; ++i) {
            I += static_cast<double>(a[i]) * static_cast<double>(b[i]);
            P += static_cast<double>(a[i]);
            G += static_cast<double>(b[i]);
          }
          part[static_cast<size_t>(3 * pl)] = I;
          part[static_cast<size_t>(3 * pl + 1)] = P;
          part[static_cast<size_t>(3 * pl + 2)] = G;
        }
        double* s = sums.data<double>();
        double mean = 0;
        for (int64_t k = 0; k < K; ++k) {
          for (int j = 0; j < 3; ++j) {
            double acc = 0;
            for (int64_t n = 0; n < N; ++n) acc += part[static_cast<size_t>(3 * (n * K + k) + j)];
            s[3 * k + j] = acc;
          }
          mean += dice_ratio(s[3 * k], s[3 * k + 1], s[3 * k + 2], eps);
        }
        loss.data<T>()[0] = static_cast<T>(1.0 - mean / static_cast<double>(K));
      });
  return record(op, loss, {p, target}, [&] {
    return [t = target.detach(), sums, eps, op, N, K, S](const Tensor& g) -> std::vector<Tensor> {
      Tensor dp = empty_like(t);
      on_device(
          g, op, [&] { cuda::dice_backward(t, sums, g, dp, eps); },
          [&](auto tag) {
            using T = decltype(tag);
            const double gout = g.item();
            const double* s = sums.data<double>();
            const T* tp = t.data<T>();
            T* d = dp.data<T>();
#pragma omp parallel for schedule(static) if (N * K * S > kParallelGrain)
            for (int64_t pl = 0; pl < N * K; ++pl) {
              const int64_t k = pl % K;
              const double I = s[3 * k], P = s[3 * k + 1], G = s[3 * k + 2];
              for (int64_t i = pl * S; i < (pl + 1) * S; ++i)
                d[i] = static_cast<T>(
                    dice_grad(static_cast<double>(tp[i]), I, P, G, eps, static_cast<double>(K), gout));
            }
          });
      return {dp, Tensor()};
    };
  });
}

// ---------------------------------------------------------------- log-barrier
Tensor log_barrier(const Tensor& z, double t) {
  const char* op = "log_barrier";
  check_float(z, op, "z");
  SEG_CHECK(t > 0, op, ": t must be positive, got ", t);
  Tensor y = empty_like(z);
  const int64_t n = z.numel();
  on_device(
      z, op, [&] { cuda::log_barrier_forward(z, y, t); },
      [&](auto tag) {
        using T = decltype(tag);
        const T* zp = z.data<T>();
        T* yp = y.data<T>();
#pragma omp parallel for if (n > kParallelGrain)
        for (int64_t i = 0; i < n; ++i) yp[i] = static_cast<T>(log_barrier_value(static_cast<double>(zp[i]), t));
      });
  return record(op, y, {z}, [&] {
    return [zs = z.detach(), t, op](const Tensor& g) -> std::vector<Tensor> {
      Tensor dz = empty_like(zs);
      on_device(
          g, op, [&] { cuda::log_barrier_backward(zs, g, dz, t); },
          [&](auto tag) {
            using T = decltype(tag);
            const T* zp = zs.data<T>();
            const T* gp = g.data<T>();
            T* d = dz.data<T>();
            const int64_t m = zs.numel();
#pragma omp parallel for if (m > kParallelGrain)
            for (int64_t i = 0; i < m; ++i)
              d[i] = static_cast<T>(gp[i] * log_barrier_derivative(static_cast<double>(zp[i]), t));
          });
      return {dz};
    };
  });
}

}  // namespace seg
