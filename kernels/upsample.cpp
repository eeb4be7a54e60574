// Resize ops on the CPU and their autograd wiring. Per-axis tap tables (index pairs and weights, from
// upsample_math.h) are built once per call, so the per-element work is a few loads and multiply-adds; the backward is
// the adjoint (a scatter-add of dy along the same taps), parallel over (n, c) planes so no two threads share a target.
// Nothing but the geometry is saved for the backward.
#include "kernels/upsample.h"

#include <algorithm>
#include <vector>

#include "engine/autograd.h"
#include "kernels/op_util.h"
#include "kernels/upsample_cuda.h"

namespace seg {

namespace {

template <class T>
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
  Taps(int64_t in, int64_t out, bool align_corners, double scale) : i0(out), i1(out), l0(out), l1(out) {
    const T ratio = linear_ratio<T>(in, out, align_corners, scale);
    for (int64_t o = 0; o < out; ++o) linear_taps(ratio, o, in, out, align_corners, i0[o], i1[o], l0[o], l1[o]);
  }
};

template <class T, bool D3>
void linear_forward_cpu(const T* x, T* y, const UpsampleGeom& g) {
  const Taps<T> td(g.D, g.OD, g.align_corners, g.scale_d), th(g.H, g.OH, g.align_corners, g.scale_h),
      tw(g.W, g.OW, g.align_corners, g.scale_w);
  const int64_t rows = g.OD * g.OH, ip = g.in_plane(), op = g.out_plane();
#pragma omp parallel for collapse(2) if (g.planes * op > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t od = r / g.OH, oh = r % g.OH;
      const T* plane = x + p * ip;
      const int64_t h0 = th.i0[oh], h1 = th.i1[oh];
      const T lh0 = th.l0[oh], lh1 = th.l1[oh];
      const int64_t d0 = D3 ? td.i0[od] : 0, d1 = D3 ? td.i1[od] : 0;
      const T ld0 = D3 ? td.l0[od] : T(1), ld1 = D3 ? td.l1[od] : T(0);
      const T* a0 = plane + (d0 * g.H + h0) * g.W;
      const T* a1 = plane + (d0 * g.H + h1) * g.W;
      const T* b0 = plane + (d1 * g.H + h0) * g.W;
      const T* b1 = plane + (d1 * g.H + h1) * g.W;
      T* yr = y + p * op + r * g.OW;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
        const T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
        T v = ld0 * (lh0 * (lw0 * a0[w0] + lw1 * a0[w1]) + lh1 * (lw0 * a1[w0] + lw1 * a1[w1]));
        if (D3) v += ld1 * (lh0 * (lw0 * b0[w0] + lw1 * b0[w1]) + lh1 * (lw0 * b1[w0] + lw1 * b1[w1]));
        yr[ow] = v;
      }
    }
}

template <class T, bool D3>
void linear_backward_cpu(const T* dy, T* dx, const UpsampleGeom& g) {
  const Taps<T> td(g.D, g.OD, g.align_corners, g.scale_d), th(g.H, g.OH, g.align_corners, g.scale_h),
      tw(g.W, g.OW, g.align_corners, g.scale_w);
  const int64_t ip = g.in_plane(), op = g.out_plane();
#pragma omp parallel for if (g.planes * op > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p) {
    T* plane = dx + p * ip;
    std::fill(plane, plane + ip, T(0));
    for (int64_t od = 0; od < g.OD; ++od)
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t h0 = th.i0[oh], h1 = th.i1[oh];
        const T lh0 = th.l0[oh], lh1 = th.l1[oh];
        const int64_t d0 = D3 ? td.i0[od] : 0, d1 = D3 ? td.i1[od] : 0;
        const T ld0 = D3 ? td.l0[od] : T(1), ld1 = D3 ? td.l1[od] : T(0);
        T* a0 = plane + (d0 * g.H + h0) * g.W;
        T* a1 = plane + (d0 * g.H + h1) * g.W;
        T* b0 = plane + (d1 * g.H + h0) * g.W;
        T* b1 = plane + (d1 * g.H + h1) * g.W;
        const T* gr = dy + p * op + (od * g.OH + oh) * g.OW;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
          const T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
          const T ga = ld0 * gr[ow];
          a0[w0] += ga * lh0 * lw0;
          a0[w1] += ga * lh0 * lw1;
          a1[w0] += ga * lh1 * lw0;
          a1[w1] += ga * lh1 * lw1;
          if (D3) {
            const T gb = ld1 * gr[ow];
            b0[w0] += gb * lh0 * lw0;
            b0[w1] += gb * lh0 * lw1;
            b1[w0] += gb * lh1 * lw0;
            b1[w1] += gb * lh1 * lw1;
          }
        }
      }
  }
}

std::vector<int64_t> nearest_table(int64_t in, int64_t out, double scale) {
  std::vector<int64_t> t(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) t[static_cast<size_t>(o)] = nearest_source(o, in, out, scale);
  return t;
}

template <class T>
void nearest_forward_cpu(const T* x, T* y, const UpsampleGeom& g) {
  const auto sd = nearest_table(g.D, g.OD, g.scale_d), sh = nearest_table(g.H, g.OH, g.scale_h),
             sw = nearest_table(g.W, g.OW, g.scale_w);
  const int64_t rows = g.OD * g.OH, ip = g.in_plane(), op = g.out_plane();
#pragma omp parallel for collapse(2) if (g.planes * op > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t r = 0; r < rows; ++r) {
      const T* src = x + p * ip + (sd[r / g.OH] * g.H + sh[r % g.OH]) * g.W;
      T* yr = y + p * op + r * g.OW;
      for (int64_t ow = 0; ow < g.OW; ++ow) yr[ow] = src[sw[ow]];
    }
}

template <class T>
void nearest_backward_cpu(const T* dy, T* dx, const UpsampleGeom& g) {
  const auto sd = nearest_table(g.D, g.OD, g.scale_d), sh = nearest_table(g.H, g.OH, g.scale_h),
             sw = nearest_table(g.W, g.OW, g.scale_w);
  const int64_t rows = g.OD * g.OH, ip = g.in_plane(), op = g.out_plane();
#pragma omp parallel for if (g.planes * op > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p) {
    T* plane = dx + p * ip;
    std::fill(plane, plane + ip, T(0));
    for (int64_t r = 0; r < rows; ++r) {
      T* dst = plane + (sd[r / g.OH] * g.H + sh[r % g.OH]) * g.W;
      const T* gr = dy + p * op + r * g.OW;
      for (int64_t ow = 0; ow < g.OW; ++ow) dst[sw[ow]] += gr[ow];
    }
  }
}

template <class T>
void forward_cpu(UpsampleMode mode, const T* x, T* y, const UpsampleGeom& g) {
  if (mode == UpsampleMode::Nearest) nearest_forward_cpu(x, y, g);
  else if (g.D == 1 && g.OD == 1) linear_forward_cpu<T, false>(x, y, g);
  else linear_forward_cpu<T, true>(x, y, g);
}

template <class T>
void backward_cpu(UpsampleMode mode, const T* dy, T* dx, const UpsampleGeom& g) {
  if (mode == UpsampleMode::Nearest) nearest_backward_cpu(dy, dx, g);
  else if (g.D == 1 && g.OD == 1) linear_backward_cpu<T, false>(dy, dx, g);
  else linear_backward_cpu<T, true>(dy, dx, g);
}

// out: the output spatial size; scales: the caller's scale factors (empty when the size was given).
Tensor upsample_impl(UpsampleMode mode, const Tensor& x, const std::vector<int64_t>& out,
                     const std::vector<double>& scales, bool align_corners, const char* op) {
  const size_t nsp = out.size();
  check_float(x, op, "input");
  check_dim(x, static_cast<int64_t>(nsp) + 2, op, "input");
  UpsampleGeom g;
  g.planes = x.size(0) * x.size(1);
  g.align_corners = align_corners;
  int64_t* in_dims[3] = {&g.D, &g.H, &g.W};
  int64_t* out_dims[3] = {&g.OD, &g.OH, &g.OW};
  double* sc[3] = {&g.scale_d, &g.scale_h, &g.scale_w};
  Shape ys = {x.size(0), x.size(1)};
  for (size_t i = 0; i < nsp; ++i) {
    const size_t a = 3 - nsp + i;
    SEG_CHECK(out[i] > 0, op, ": output size must be positive, got ", shape_str(out), " for input ", x.describe());
    SEG_CHECK(x.shape()[2 + i] > 0, op, ": empty spatial dimension in ", x.describe());
    *in_dims[a] = x.shape()[2 + i];
    *out_dims[a] = out[i];
    *sc[a] = scales.empty() ? 0.0 : scales[i];
    ys.push_back(out[i]);
  }
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  on_device(
      x, op, [&] { cuda::upsample_forward(mode, x, y, g); },
      [&](auto tag) {
        using T = decltype(tag);
        forward_cpu(mode, x.data<T>(), y.data<T>(), g);
      });
  return record(op, y, {x}, [&] {
    return [mode, g, xs = x.shape(), op](const Tensor& dy) -> std::vector<Tensor> {
      Tensor dx = Tensor::empty(xs, dy.dtype(), dy.device());
      on_device(
          dy, op, [&] { cuda::upsample_backward(mode, dy, dx, g); },
          [&](auto tag) {
            using T = decltype(tag);
            backward_cpu(mode, dy.data<T>(), dx.data<T>(), g);
          });
      return {dx};
    };
  });
}

// F.interpolate(scale_factor=s): output size floor(in·s), and s itself is passed on to the source coordinates.
Tensor upsample_scale_impl(UpsampleMode mode, const Tensor& x, const std::vector<double>& scale_factor, size_t nsp,
                           bool align_corners, const char* op) {
  check_float(x, op, "input");
  check_dim(x, static_cast<int64_t>(nsp) + 2, op, "input");
  const std::vector<double> s = per_spatial_dim(scale_factor, static_cast<int64_t>(nsp), op, "scale_factor");
  std::vector<int64_t> out(nsp);
  for (size_t i = 0; i < nsp; ++i) {
    SEG_CHECK(s[i] > 0, op, ": scale_factor must be positive, got ", s[i]);
    out[i] = static_cast<int64_t>(static_cast<double>(x.shape()[2 + i]) * s[i]);
  }
  return upsample_impl(mode, x, out, s, align_corners, op);
}

}  // namespace

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  return upsample_impl(UpsampleMode::Linear, x, {out_h, out_w}, {}, align_corners, "upsample_bilinear2d");
}
Tensor upsample_trilinear3d(const Tensor& x, int64_t out_d, int64_t out_h, int64_t out_w, bool align_corners) {
  return upsample_impl(UpsampleMode::Linear, x, {out_d, out_h, out_w}, {}, align_corners, "upsample_trilinear3d");
}
Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  return upsample_impl(UpsampleMode::Nearest, x, {out_h, out_w}, {}, false, "upsample_nearest2d");
}
Tensor upsample_nearest3d(const Tensor& x, int64_t out_d, int64_t out_h, int64_t out_w) {
  return upsample_impl(UpsampleMode::Nearest, x, {out_d, out_h, out_w}, {}, false, "upsample_nearest3d");
}
Tensor upsample_bilinear2d_scale(const Tensor& x, const std::vector<double>& scale_factor, bool align_corners) {
  return upsample_scale_impl(UpsampleMode::Linear, x, scale_factor, 2, align_corners, "upsample_bilinear2d");
}
Tensor upsample_trilinear3d_scale(const Tensor& x, const std::vector<double>& scale_factor, bool align_corners) {
  return upsample_scale_impl(UpsampleMode::Linear, x, scale_factor, 3, align_corners, "upsample_trilinear3d");
}
Tensor upsample_nearest2d_scale(const Tensor& x, const std::vector<double>& scale_factor) {
  return upsample_scale_impl(UpsampleMode::Nearest, x, scale_factor, 2, false, "upsample_nearest2d");
}
Tensor upsample_nearest3d_scale(const Tensor& x, const std::vector<double>& scale_factor) {
  return upsample_scale_impl(UpsampleMode::Nearest, x, scale_factor, 3, false, "upsample_nearest3d");
}

}  // namespace seg
