// Sobel on the CPU and its autograd wiring (formulas: kernels/sobel_math.h). OpenMP over (n, c) planes.
#include "kernels/sobel.h"

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/sobel_cuda.h"

namespace seg {

namespace {

struct Dims {
  int64_t planes, D, H, W;
};

Dims dims_of(const Tensor& x, int sd) {
  return {x.size(0) * x.size(1), sd == 3 ? x.size(2) : 1, x.size(-2), x.size(-1)};
}

// mode 0: forward (x planes → sd planes each); 1: adjoint (sd planes → 1); 2: edge map (1 → 1).
template <class T>
void sobel_cpu(const T* in, T* out, const Dims& d, int sd, int mode) {
  const int64_t S = d.D * d.H * d.W;
  const int first = 3 - sd;
#pragma omp parallel for schedule(static) if (d.planes * S * sd > kParallelGrain)  // sd stencils per voxel
  for (int64_t pl = 0; pl < d.planes; ++pl) {
    for (int64_t z = 0; z < d.D; ++z)
      for (int64_t y = 0; y < d.H; ++y)
        for (int64_t x = 0; x < d.W; ++x) {
          const int64_t i = (z * d.H + y) * d.W + x;
          if (mode == 0) {
            for (int a = 0; a < sd; ++a)
              out[(pl * sd + a) * S + i] = static_cast<T>(sobel_component_at(in + pl * S, d.D, d.H, d.W, z, y, x, first + a));
          } else if (mode == 1) {
            double acc = 0;
            for (int a = 0; a < sd; ++a) acc -= sobel_component_at(in + (pl * sd + a) * S, d.D, d.H, d.W, z, y, x, first + a);
            out[pl * S + i] = static_cast<T>(acc);
          } else {
            bool edge = false;
            for (int a = 0; a < sd && !edge; ++a) edge = sobel_component_at(in + pl * S, d.D, d.H, d.W, z, y, x, first + a) != 0.0;
            out[pl * S + i] = edge ? T(1) : T(0);
          }
        }
  }
}

Tensor sobel_any(const Tensor& x, int sd) {
  const char* op = sd == 2 ? "sobel2d" : "sobel3d";
  check_float(x, op, "input");
  check_dim(x, sd + 2, op, "input");
  Shape ys = x.shape();
  ys[1] *= sd;
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::sobel_forward(x, y, sd); },
      [&](auto tag) {
        using T = decltype(tag);
        sobel_cpu<T>(x.data<T>(), y.data<T>(), dims_of(x, sd), sd, 0);
      });
  return record(op, y, {x}, [&] {
    return [xs = x.shape(), sd, op](const Tensor& g) -> std::vector<Tensor> {
      Tensor dx = Tensor::empty(xs, g.dtype(), g.device());
      on_device(
          g, op, [&] { cuda::sobel_backward(g, dx, sd); },
          [&](auto tag) {
            using T = decltype(tag);
            sobel_cpu<T>(g.data<T>(), dx.data<T>(), dims_of(dx, sd), sd, 1);
          });
      return {dx};
    };
  });
}

}  // namespace

Tensor sobel2d(const Tensor& x) { return sobel_any(x, 2); }
Tensor sobel3d(const Tensor& x) { return sobel_any(x, 3); }

Tensor edge_map(const Tensor& onehot) {
  check_float(onehot, "edge_map", "input");
  SEG_CHECK(onehot.dim() == 4 || onehot.dim() == 5, "edge_map: input must be (N,K,H,W) or (N,K,D,H,W), got ",
            onehot.describe());
  const int sd = static_cast<int>(onehot.dim()) - 2;
  Tensor y = empty_like(onehot);
  on_device(
      onehot, "edge_map", [&] { cuda::edge_map(onehot, y, sd); },
      [&](auto tag) {
        using T = decltype(tag);
        sobel_cpu<T>(onehot.data<T>(), y.data<T>(), dims_of(onehot, sd), sd, 2);
      });
  return y;
}

}  // namespace seg
