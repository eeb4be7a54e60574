// Fused CoordConv on the CPU and its autograd wiring (math: kernels/coordconv_math.h).
// y = conv(x, W_image) (the engine's conv, no bias), then one node adds bias + M in place and differentiates it:
// dy passes straight through to the image convolution, dWc and db come from S = Σ_n dy.
// CPU evaluation: per (C_out, oz, oy) row, the taps along z and y are folded first into 2·kw coefficients, so each
// output pixel costs 2·kw multiply-adds (forward) — about 1/(C_in·kh) of the image convolution's work per pixel.
#include "kernels/coordconv.h"

#include <algorithm>
#include <vector>

#include "engine/autograd.h"
#include "kernels/coordconv_cuda.h"
#include "kernels/op_util.h"
#include "kernels/shape_ops.h"

namespace seg {

namespace {

// Per-axis (tap, output index) tables: validity (0/1) and coordinate·validity; tap-major so the loops over a row's
// output pixels are contiguous (vectorised).
template <class T>
struct AxisTables {
  std::vector<T> valid[3], coord[3];
  explicit AxisTables(const CoordGeom& g) {
    for (int a = 0; a < 3; ++a) {
      const CoordAxis& ax = g.ax[a];
      valid[a].assign(static_cast<size_t>(ax.n_out * ax.k), T(0));
      coord[a].assign(static_cast<size_t>(ax.n_out * ax.k), T(0));
      for (int64_t o = 0; o < ax.n_out; ++o)
        for (int64_t t = 0; t < ax.k; ++t) {
          double c = 0;
          if (coord_axis_tap(ax, o, t, &c)) {
            valid[a][static_cast<size_t>(t * ax.n_out + o)] = T(1);
            coord[a][static_cast<size_t>(t * ax.n_out + o)] = static_cast<T>(c);
          }
        }
    }
  }
};

// Coordinate-weight pointers of output channel co: [Z,] Y, X (Z is null in 2-D).
template <class W>
void channel_weights(const CoordGeom& g, W* wc, int64_t co, W** wz, W** wy, W** wx) {
  W* base = wc + co * g.w_so;
  *wz = g.ncoord == 3 ? base : nullptr;
  *wy = base + (g.ncoord - 2) * g.w_sc;
  *wx = base + (g.ncoord - 1) * g.w_sc;
}

template <class T>
void coordconv_add_cpu(T* y, int64_t N, const T* wc, const T* bias, const CoordGeom& g) {
  const AxisTables<T> tb(g);
  const int64_t OD = g.ax[0].n_out, OH = g.ax[1].n_out, OW = g.ax[2].n_out, kd = g.ax[0].k, kh = g.ax[1].k,
                kw = g.ax[2].k, L = g.out_size(), C = g.cout;
#pragma omp parallel if (N * C * L > kParallelGrain)  // tiny maps (gradchecks) stay serial
  {
    std::vector<T> P(static_cast<size_t>(kw)), Q(static_cast<size_t>(kw)), row(static_cast<size_t>(OW));
#pragma omp for schedule(static)
    for (int64_t co = 0; co < C; ++co) {
      const T *wz, *wy, *wx;
      channel_weights(g, wc, co, &wz, &wy, &wx);
      const T b = bias ? bias[co] : T(0);
      for (int64_t oz = 0; oz < OD; ++oz)
        for (int64_t oy = 0; oy < OH; ++oy) {
          // P[kx]: coefficient of valid_x(ox, kx) (the Z and Y channels); Q[kx]: of coord_x(ox, kx).
          std::fill(P.begin(), P.end(), T(0));
          std::fill(Q.begin(), Q.end(), T(0));
          for (int64_t kz = 0; kz < kd; ++kz) {
            const T vz = tb.valid[0][static_cast<size_t>(kz * OD + oz)], cz = tb.coord[0][static_cast<size_t>(kz * OD + oz)];
            if (vz == T(0)) continue;
            for (int64_t ky = 0; ky < kh; ++ky) {
              const T vy = tb.valid[1][static_cast<size_t>(ky * OH + oy)], cy = tb.coord[1][static_cast<size_t>(ky * OH + oy)];
              if (vy == T(0)) continue;
              const int64_t t0 = (kz * kh + ky) * kw;
              for (int64_t kx = 0; kx < kw; ++kx) {
                P[static_cast<size_t>(kx)] += wy[t0 + kx] * cy + (wz ? wz[t0 + kx] * cz : T(0));
                Q[static_cast<size_t>(kx)] += wx[t0 + kx];
              }
            }
          }
          const T* vx = tb.valid[2].data();
          const T* cx = tb.coord[2].data();
          T* r = row.data();
          std::fill(r, r + OW, b);
          for (int64_t kx = 0; kx < kw; ++kx) {
            const T p = P[static_cast<size_t>(kx)], q = Q[static_cast<size_t>(kx)];
            const T* v = vx + kx * OW;
            const T* c = cx + kx * OW;
            for (int64_t ox = 0; ox < OW; ++ox) r[ox] += p * v[ox] + q * c[ox];
          }
          const int64_t off = (oz * OH + oy) * OW;
          for (int64_t n = 0; n < N; ++n) {
            T* yr = y + (n * C + co) * L + off;
            for (int64_t ox = 0; ox < OW; ++ox) yr[ox] += row[static_cast<size_t>(ox)];
          }
        }
    }
  }
}

template <class T>
void coordconv_grad_cpu(const T* dy, int64_t N, T* dwc, T* db, const CoordGeom& g) {
  const AxisTables<T> tb(g);
  const int64_t OD = g.ax[0].n_out, OH = g.ax[1].n_out, OW = g.ax[2].n_out, kd = g.ax[0].k, kh = g.ax[1].k,
                kw = g.ax[2].k, L = g.out_size(), C = g.cout, K = g.taps();
#pragma omp parallel if (N * C * L > kParallelGrain)
  {
    std::vector<double> s(static_cast<size_t>(OW)), rv(static_cast<size_t>(kw)), rx(static_cast<size_t>(kw)),
        acc(static_cast<size_t>(3 * K));
#pragma omp for schedule(static)
    for (int64_t co = 0; co < C; ++co) {
      std::fill(acc.begin(), acc.end(), 0.0);
      double* az = acc.data();          // Z (3-D only)
      double* ay = acc.data() + K;
      double* ax = acc.data() + 2 * K;
      double bsum = 0;
      for (int64_t oz = 0; oz < OD; ++oz)
        for (int64_t oy = 0; oy < OH; ++oy) {
          const int64_t off = (oz * OH + oy) * OW;
          std::fill(s.begin(), s.end(), 0.0);
          for (int64_t n = 0; n < N; ++n) {
            const T* r = dy + (n * C + co) * L + off;
            for (int64_t ox = 0; ox < OW; ++ox) s[static_cast<size_t>(ox)] += static_cast<double>(r[ox]);
          }
          for (int64_t ox = 0; ox < OW; ++ox) bsum += s[static_cast<size_t>(ox)];
          if (!dwc) continue;
          // rv[kx] = Σ_ox S·valid_x, rx[kx] = Σ_ox S·coord_x
          for (int64_t kx = 0; kx < kw; ++kx) {
            const T* v = tb.valid[2].data() + kx * OW;
            const T* c = tb.coord[2].data() + kx * OW;
            double sv = 0, sc = 0;
            for (int64_t ox = 0; ox < OW; ++ox) {
              sv += s[static_cast<size_t>(ox)] * static_cast<double>(v[ox]);
              sc += s[static_cast<size_t>(ox)] * static_cast<double>(c[ox]);
            }
            rv[static_cast<size_t>(kx)] = sv;
            rx[static_cast<size_t>(kx)] = sc;
          }
          for (int64_t kz = 0; kz < kd; ++kz) {
            const double vz = tb.valid[0][static_cast<size_t>(kz * OD + oz)], cz = tb.coord[0][static_cast<size_t>(kz * OD + oz)];
            if (vz == 0.0) continue;
            for (int64_t ky = 0; ky < kh; ++ky) {
              const double vy = tb.valid[1][static_cast<size_t>(ky * OH + oy)], cy = tb.coord[1][static_cast<size_t>(ky * OH + oy)];
              if (vy == 0.0) continue;
              const int64_t t0 = (kz * kh + ky) * kw;
              for (int64_t kx = 0; kx < kw; ++kx) {
                ax[t0 + kx] += rx[static_cast<size_t>(kx)];
                ay[t0 + kx] += cy * rv[static_cast<size_t>(kx)];
                az[t0 + kx] += cz * rv[static_cast<size_t>(kx)];
              }
            }
          }
        }
      if (db) db[co] = static_cast<T>(bsum);
      if (dwc) {
        T *wz, *wy, *wx;
        channel_weights(g, dwc, co, &wz, &wy, &wx);
        for (int64_t t = 0; t < K; ++t) {
          if (wz) wz[t] = static_cast<T>(az[t]);
          wy[t] = static_cast<T>(ay[t]);
          wx[t] = static_cast<T>(ax[t]);
        }
      }
    }
  }
}

// The node that adds bias + coordinate map to the image convolution's output y (consumed: written in place).
Tensor coord_add(const char* op, const Tensor& y, const Tensor& wc, const Tensor& bias, const CoordGeom& g) {
  Tensor out = y.detach();  // same storage: nothing else reads y (a conv's backward does not need its output)
  on_device(
      out, op, [&] { cuda::coordconv_add(out, wc, bias, g); },
      [&](auto tag) {
        using T = decltype(tag);
        coordconv_add_cpu<T>(out.data<T>(), out.size(0), wc.data<T>(), opt_data<T>(bias), g);
      });
  return record(op, out, {y, wc, bias}, [&] {
    return [g, nw = input_needs_grad(wc), nb = input_needs_grad(bias), wshape = wc.shape(), has_b = bias.defined(),
            op](const Tensor& dy) -> std::vector<Tensor> {
      Tensor dwc = grad_buffer(nw, wshape, dy), db = grad_buffer(nb && has_b, {g.cout}, dy);
      if (dwc.defined() || db.defined()) {
        on_device(
            dy, op, [&] { cuda::coordconv_grad(dy, dwc, db, g); },
            [&](auto tag) {
              using T = decltype(tag);
              coordconv_grad_cpu<T>(dy.data<T>(), dy.size(0), opt_data<T>(dwc), opt_data<T>(db), g);
            });
      }
      return {dy, dwc, db};
    };
  });
}

Tensor coordconv_any(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& opt, double lo, double hi,
                     int sd, bool transposed) {
  const char* op = transposed ? "coordconv_transpose2d" : (sd == 2 ? "coordconv2d" : "coordconv3d");
  check_float(x, op, "input");
  check_float(w, op, "weight");
  check_dim(x, sd + 2, op, "input");
  check_dim(w, sd + 2, op, "weight");
  check_same_dtype_device(x, w, op);
  const int64_t cin = x.size(1), wdim = transposed ? 0 : 1;
  SEG_CHECK(cin >= 1, op, ": input ", x.describe(), " has no channels");
  SEG_CHECK(w.size(wdim) == cin + sd, op, ": weight ", w.describe(), " must have ", cin + sd, " input channels (",
            cin, " image + ", sd, " coordinate) for input ", x.describe());
  const int64_t cout = transposed ? w.size(1) : w.size(0);
  if (b.defined()) {
    check_same_dtype_device(x, b, op);
    SEG_CHECK(b.dim() == 1 && b.numel() == cout, op, ": bias must have ", cout, " elements, got ", b.describe());
  }
  // The image part through the engine's convolution (which checks the remaining arguments), without bias.
  const Tensor w_img = narrow(w, wdim, 0, cin), w_c = narrow(w, wdim, cin, sd);
  const Tensor y = transposed ? conv_transpose2d(x, w_img, Tensor(), opt)
                              : (sd == 2 ? conv2d(x, w_img, Tensor(), opt) : conv3d(x, w_img, Tensor(), opt));
  CoordGeom g;
  g.ncoord = sd;
  g.cout = cout;
  const int64_t K = shape_numel(Shape(w.shape().begin() + 2, w.shape().end()));
  g.w_so = transposed ? K : sd * K;
  g.w_sc = transposed ? cout * K : K;
  const auto st = per_spatial_dim(opt.stride, sd, op, "stride"), pa = per_spatial_dim(opt.padding, sd, op, "padding"),
             di = per_spatial_dim(opt.dilation, sd, op, "dilation");
  for (int i = 0; i < sd; ++i) {
    CoordAxis& a = g.ax[3 - sd + i];
    const auto s = static_cast<size_t>(i);
    a.n_in = x.size(2 + i);
    a.n_out = y.size(2 + i);
    a.k = w.size(2 + i);
    a.stride = st[s];
    a.pad = pa[s];
    a.dil = di[s];
    a.reflect = opt.padding_mode == "reflect";
    a.transposed = transposed;
    a.lo = lo;
    a.step = coord_step(lo, hi, a.n_in);
  }
  return coord_add(op, y, w_c, b, g);
}

}  // namespace

Tensor coordconv2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& opt, double lo, double hi) {
  return coordconv_any(x, w, b, opt, lo, hi, 2, false);
}
Tensor coordconv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& opt, double lo,
                             double hi) {
  return coordconv_any(x, w, b, opt, lo, hi, 2, true);
}
Tensor coordconv3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& opt, double lo, double hi) {
  return coordconv_any(x, w, b, opt, lo, hi, 3, false);
}

}  // namespace seg
