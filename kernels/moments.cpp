// Moments on the CPU and their autograd wiring (formulas: kernels/moments_math.h). OpenMP over (n, k) planes; each
// row is reduced to Σp, Σp·x, Σp·x² and folded into the moments with its y (and z), so a pixel costs 3 multiply-adds.
#include "kernels/moments.h"

#include "engine/autograd.h"
#include "kernels/moments_cuda.h"
#include "kernels/op_util.h"

namespace seg {

namespace {

template <class T>
void moments_cpu(const T* p, T* m, int64_t planes, int64_t D, int64_t H, int64_t W, int sd) {
  const int nm = sd == 2 ? kMoments2d : kMoments3d;
#pragma omp parallel for schedule(static) if (planes * D * H * W > kParallelGrain)
  for (int64_t pl = 0; pl < planes; ++pl) {
    double acc[kMoments3d] = {0};
    const T* src = p + pl * D * H * W;
    for (int64_t z = 0; z < D; ++z)
      for (int64_t y = 0; y < H; ++y) {
        const T* row = src + (z * H + y) * W;
        double r0 = 0, r1 = 0, r2 = 0;
        for (int64_t x = 0; x < W; ++x) {
          const double v = static_cast<double>(row[x]), xv = static_cast<double>(x);
          r0 += v;
          r1 += v * xv;
          r2 += v * xv * xv;
        }
        moments_add_row(sd, static_cast<double>(y), static_cast<double>(z), r0, r1, r2, acc);
      }
    for (int i = 0; i < nm; ++i) m[pl * nm + i] = static_cast<T>(acc[i]);
  }
}

template <class T>
void moments_backward_cpu(const T* g, T* dp, int64_t planes, int64_t D, int64_t H, int64_t W, int sd) {
  const int nm = sd == 2 ? kMoments2d : kMoments3d;
#pragma omp parallel for schedule(static) if (planes * D * H * W > kParallelGrain)
  for (int64_t pl = 0; pl < planes; ++pl) {
    double gm[kMoments3d];
    for (int i = 0; i < nm; ++i) gm[i] = static_cast<double>(g[pl * nm + i]);
    T* dst = dp + pl * D * H * W;
    for (int64_t z = 0; z < D; ++z)
      for (int64_t y = 0; y < H; ++y) {
        double c0, c1, c2;
        moments_row_grad(sd, static_cast<double>(y), static_cast<double>(z), gm, &c0, &c1, &c2);
        T* row = dst + (z * H + y) * W;
        for (int64_t x = 0; x < W; ++x) {
          const double xv = static_cast<double>(x);
          row[x] = static_cast<T>(c0 + xv * (c1 + xv * c2));
        }
      }
  }
}

Tensor moments_any(const Tensor& p, int sd) {
  const char* op = sd == 2 ? "moments2d" : "moments3d";
  check_float(p, op, "input");
  check_dim(p, sd + 2, op, "input");
  const int64_t N = p.size(0), K = p.size(1), D = sd == 3 ? p.size(2) : 1, H = p.size(-2), W = p.size(-1);
  const int nm = sd == 2 ? kMoments2d : kMoments3d;
  Tensor m = Tensor::empty({N, K, nm}, p.dtype(), p.device());
  on_device(
      p, op, [&] { cuda::moments_forward(p, m, sd); },
      [&](auto tag) {
        using T = decltype(tag);
        moments_cpu<T>(p.data<T>(), m.data<T>(), N * K, D, H, W, sd);
      });
  return record(op, m, {p}, [&] {
    return [ps = p.shape(), sd, op, N, K, D, H, W](const Tensor& g) -> std::vector<Tensor> {
      Tensor dp = Tensor::empty(ps, g.dtype(), g.device());
      on_device(
          g, op, [&] { cuda::moments_backward(g, dp, sd); },
          [&](auto tag) {
            using T = decltype(tag);
            moments_backward_cpu<T>(g.data<T>(), dp.data<T>(), N * K, D, H, W, sd);
          });
      return {dp};
    };
  });
}

}  // namespace

Tensor moments2d(const Tensor& p) { return moments_any(p, 2); }
Tensor moments3d(const Tensor& p) { return moments_any(p, 3); }

}  // namespace seg
