// Laplacian quadratic form on the CPU and its autograd wiring (stencils: kernels/laplacian_math.h). OpenMP over
// (n, k) maps.
#include "kernels/laplacian.h"

#include "engine/autograd.h"
#include "kernels/laplacian_cuda.h"
#include "kernels/op_util.h"

namespace seg {

namespace {

template <class T>
void laplacian_cpu(const T* p, const T* g, T* out, int64_t planes, int64_t D, int64_t H, int64_t W, int conn,
                   bool backward) {
  int o[13][3];
  const int n = laplacian_half_offsets(conn, o);
  const int64_t S = D * H * W;
#pragma omp parallel for schedule(static) if (planes * S * n > kParallelGrain)  // n stencil pairs per pixel
  for (int64_t pl = 0; pl < planes; ++pl) {
    const T* src = p + pl * S;
    if (!backward) {
      double acc = 0;
      for (int64_t z = 0; z < D; ++z)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) acc += laplacian_pairs_at(src, D, H, W, z, y, x, o, n);
      out[pl] = static_cast<T>(acc);
    } else {
      const double gg = 2.0 * static_cast<double>(g[pl]);
      T* dst = out + pl * S;
      for (int64_t z = 0; z < D; ++z)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x)
            dst[(z * H + y) * W + x] = static_cast<T>(gg * laplacian_apply_at(src, D, H, W, z, y, x, o, n));
    }
  }
}

}  // namespace

Tensor laplacian_quadratic(const Tensor& p, int connectivity) {
  const char* op = "laplacian_quadratic";
  check_float(p, op, "input");
  SEG_CHECK(p.dim() == 4 || p.dim() == 5, op, ": input must be (N,K,H,W) or (N,K,D,H,W), got ", p.describe());
  const bool three = p.dim() == 5;
  SEG_CHECK(three ? (connectivity == 6 || connectivity == 26) : (connectivity == 4 || connectivity == 8), op,
            ": connectivity must be ", three ? "6 or 26 for a 3-D input" : "4 or 8 for a 2-D input", ", got ",
            connectivity);
  const int64_t N = p.size(0), K = p.size(1), D = three ? p.size(2) : 1, H = p.size(-2), W = p.size(-1);
  Tensor q = Tensor::empty({N, K}, p.dtype(), p.device());
  on_device(
      p, op, [&] { cuda::laplacian_forward(p, q, connectivity); },
      [&](auto tag) {
        using T = decltype(tag);
        laplacian_cpu<T>(p.data<T>(), nullptr, q.data<T>(), N * K, D, H, W, connectivity, false);
      });
  return record(op, q, {p}, [&] {
    return [ps = p.detach(), connectivity, N, K, D, H, W, op](const Tensor& g) -> std::vector<Tensor> {
      Tensor dp = empty_like(ps);
      on_device(
          g, op, [&] { cuda::laplacian_backward(ps, g, dp, connectivity); },
          [&](auto tag) {
            using T = decltype(tag);
            laplacian_cpu<T>(ps.data<T>(), g.data<T>(), dp.data<T>(), N * K, D, H, W, connectivity, true);
          });
      return {dp};
    };
  });
}

}  // namespace seg
