// Convolutions on the CPU: vol2col (im2col in 3-D) + GEMM, 2-D as the D = 1 case.
// Math: y[n] = W · col(x[n]) + b, W as (Cout, Cin·k); dW = Σ_n dy[n] · col(x[n])ᵀ; dx[n] = col2vol(Wᵀ · dy[n]).
// A transposed convolution is the data-gradient of a plain one: y[n] = col2vol(Wᵀ · x[n]), with the roles of image
// and column grid swapped (see conv_geom.h).
// Key decision: with a batch of ≥ 2 samples, OpenMP runs one sample per thread with single-threaded BLAS; with one
// sample, BLAS gets the threads (parallelism at one level, never nested). Float32 calls that oneDNN accepts take its
// faster path (conv_onednn.h); this file stays the reference for every dtype and padding mode.
#include "kernels/conv.h"

#include <algorithm>
#include <cstring>
#include <omp.h>

#include "engine/autograd.h"
#include "kernels/blas.h"
#include "kernels/conv_cuda.h"
#include "kernels/conv_geom.h"
#include "kernels/conv_onednn.h"
#include "kernels/op_util.h"

namespace seg {

namespace {

// ---------------------------------------------------------------- im2col / col2im
template <class T>
void vol2col(const T* img, T* col, const ConvGeom& g) {
  const int64_t L = g.cols();
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t kz = 0; kz < g.kd; ++kz)
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          T* row = col + (((c * g.kd + kz) * g.kh + ky) * g.kw + kx) * L;
          const T* plane = img + c * g.image_size();
          for (int64_t oz = 0; oz < g.OD; ++oz) {
            const int64_t iz = conv_source_index(oz, kz, g.sd, g.pd, g.dd, g.D, g.reflect);
            for (int64_t oy = 0; oy < g.OH; ++oy) {
              T* out = row + (oz * g.OH + oy) * g.OW;
              const int64_t iy = conv_source_index(oy, ky, g.sh, g.ph, g.dh, g.H, g.reflect);
              if (iz < 0 || iy < 0) {
                std::fill(out, out + g.OW, T(0));
                continue;
              }
              const T* src = plane + (iz * g.H + iy) * g.W;
              if (g.sw == 1 && !g.reflect) {
                // valid ox: 0 <= ox - pw + kx*dw < W
                const int64_t shift = kx * g.dw - g.pw;
                const int64_t lo = std::clamp<int64_t>(-shift, 0, g.OW), hi = std::clamp<int64_t>(g.W - shift, 0, g.OW);
                std::fill(out, out + lo, T(0));
                if (hi > lo) std::memcpy(out + lo, src + lo + shift, static_cast<size_t>(hi - lo) * sizeof(T));
                std::fill(out + std::max(lo, hi), out + g.OW, T(0));
              } else {
                for (int64_t ox = 0; ox < g.OW; ++ox) {
                  const int64_t ix = conv_source_index(ox, kx, g.sw, g.pw, g.dw, g.W, g.reflect);
                  out[ox] = ix < 0 ? T(0) : src[ix];
                }
              }
            }
          }
        }
}

// Accumulates columns back onto a zeroed image (the adjoint of vol2col).
template <class T>
void col2vol(const T* col, T* img, const ConvGeom& g) {
  const int64_t L = g.cols();
  for (int64_t c = 0; c < g.C; ++c) {
    T* plane = img + c * g.image_size();
    for (int64_t kz = 0; kz < g.kd; ++kz)
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const T* row = col + (((c * g.kd + kz) * g.kh + ky) * g.kw + kx) * L;
          for (int64_t oz = 0; oz < g.OD; ++oz) {
            const int64_t iz = conv_source_index(oz, kz, g.sd, g.pd, g.dd, g.D, g.reflect);
            if (iz < 0) continue;
            for (int64_t oy = 0; oy < g.OH; ++oy) {
              const int64_t iy = conv_source_index(oy, ky, g.sh, g.ph, g.dh, g.H, g.reflect);
              if (iy < 0) continue;
              const T* in = row + (oz * g.OH + oy) * g.OW;
              T* dst = plane + (iz * g.H + iy) * g.W;
              if (g.sw == 1 && !g.reflect) {
                const int64_t shift = kx * g.dw - g.pw;
                const int64_t lo = std::clamp<int64_t>(-shift, 0, g.OW), hi = std::clamp<int64_t>(g.W - shift, 0, g.OW);
                for (int64_t ox = lo; ox < hi; ++ox) dst[ox + shift] += in[ox];
              } else {
                for (int64_t ox = 0; ox < g.OW; ++ox) {
                  const int64_t ix = conv_source_index(ox, kx, g.sw, g.pw, g.dw, g.W, g.reflect);
                  if (ix >= 0) dst[ix] += in[ox];
                }
              }
            }
          }
        }
  }
}

bool is_pointwise(const ConvGeom& g) {
  return g.ksize() == 1 && g.sd == 1 && g.sh == 1 && g.sw == 1 && g.pd == 0 && g.ph == 0 && g.pw == 0;
}

// Runs body(n, thread) for every sample, one level of parallelism (see the key decision above).
template <class F>
void for_each_sample(int64_t N, F body) {
  const int threads = max_threads();
  if (N >= 2 && threads > 1) {
    BlasThreads one(1);
#pragma omp parallel num_threads(static_cast<int>(std::min<int64_t>(N, threads)))
    {
      const int t = omp_get_thread_num();
#pragma omp for schedule(static)
      for (int64_t n = 0; n < N; ++n) body(n, t);
    }
  } else {
    BlasThreads all(threads);
    for (int64_t n = 0; n < N; ++n) body(n, 0);
  }
}

int workers(int64_t N) { return N >= 2 ? static_cast<int>(std::min<int64_t>(N, max_threads())) : 1; }

template <class T>
void add_bias(T* y, const T* b, int64_t C, int64_t L) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < L; ++i) y[c * L + i] += b[c];
}

template <class T>
void bias_grad(const T* dy, T* db, int64_t N, int64_t C, int64_t L) {
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* p = dy + (n * C + c) * L;
      for (int64_t i = 0; i < L; ++i) s += p[i];
    }
    db[c] = static_cast<T>(s);
  }
}

// One zeroed weight-gradient buffer per worker thread, the first being dw itself (summed by reduce_partials).
template <class T>
std::vector<Tensor> zeroed_partials(const Tensor& dw, int workers) {
  std::vector<Tensor> parts{dw};
  for (int t = 1; t < workers; ++t) parts.push_back(Tensor::empty(dw.shape(), dw.dtype()));
  for (auto& d : parts) std::fill(d.data<T>(), d.data<T>() + d.numel(), T(0));
  return parts;
}

// Sums per-thread partial weight gradients into the first.
template <class T>
void reduce_partials(std::vector<Tensor>& parts, int64_t n) {
  T* d = parts[0].data<T>();
  for (size_t t = 1; t < parts.size(); ++t) {
    const T* s = parts[t].data<T>();
    for (int64_t i = 0; i < n; ++i) d[i] += s[i];
  }
}

// ---------------------------------------------------------------- plain convolution
template <class T>
void conv_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g, int64_t Cout) {
  const int64_t N = x.size(0), K = g.rows(), L = g.cols();
  const bool pw = is_pointwise(g);
  std::vector<Tensor> cols(static_cast<size_t>(workers(N)));
  if (!pw) for (auto& c : cols) c = Tensor::empty({K * L}, x.dtype());
  const T* xp = x.data<T>();
  const T* wp = w.data<T>();
  const T* bp = opt_data<T>(b);
  T* yp = y.data<T>();
  for_each_sample(N, [&](int64_t n, int t) {
    const T* xn = xp + n * g.C * g.image_size();
    const T* col = xn;
    if (!pw) {
      vol2col(xn, cols[static_cast<size_t>(t)].template data<T>(), g);
      col = cols[static_cast<size_t>(t)].template data<T>();
    }
    gemm(false, false, Cout, L, K, T(1), wp, K, col, L, T(0), yp + n * Cout * L, L);
    if (bp) add_bias(yp + n * Cout * L, bp, Cout, L);
  });
}

template <class T>
void conv_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                       const ConvGeom& g, int64_t Cout) {
  const int64_t N = x.size(0), K = g.rows(), L = g.cols();
  const bool pw = is_pointwise(g);
  const int nw = workers(N);
  std::vector<Tensor> cols(static_cast<size_t>(nw)), dws;
  if (!pw) for (auto& c : cols) c = Tensor::empty({K * L}, x.dtype());
  if (dw.defined()) dws = zeroed_partials<T>(dw, nw);
  const T* xp = x.data<T>();
  const T* wp = w.data<T>();
  const T* gp = dy.data<T>();
  for_each_sample(N, [&](int64_t n, int t) {
    const T* dyn = gp + n * Cout * L;
    T* colb = pw ? nullptr : cols[static_cast<size_t>(t)].template data<T>();
    if (dw.defined()) {
      const T* xn = xp + n * g.C * g.image_size();
      const T* col = xn;
      if (!pw) {
        vol2col(xn, colb, g);
        col = colb;
      }
      gemm(false, true, Cout, K, L, T(1), dyn, L, col, L, T(1), dws[static_cast<size_t>(t)].template data<T>(), K);
    }
    if (dx.defined()) {
      T* dxn = dx.data<T>() + n * g.C * g.image_size();
      if (pw) {
        gemm(true, false, K, L, Cout, T(1), wp, K, dyn, L, T(0), dxn, L);
      } else {
        gemm(true, false, K, L, Cout, T(1), wp, K, dyn, L, T(0), colb, L);
        std::fill(dxn, dxn + g.C * g.image_size(), T(0));
        col2vol(colb, dxn, g);
      }
    }
  });
  if (dw.defined()) reduce_partials<T>(dws, dw.numel());
  if (db.defined()) bias_grad(gp, db.data<T>(), N, Cout, L);
}

// ---------------------------------------------------------------- transposed convolution
template <class T>
void convt_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g, int64_t Cin) {
  const int64_t N = x.size(0), K = g.rows(), L = g.cols(), Cout = g.C, S = g.image_size();
  std::vector<Tensor> cols(static_cast<size_t>(workers(N)));
  for (auto& c : cols) c = Tensor::empty({K * L}, x.dtype());
  const T* xp = x.data<T>();
  const T* wp = w.data<T>();
  const T* bp = opt_data<T>(b);
  T* yp = y.data<T>();
  for_each_sample(N, [&](int64_t n, int t) {
    T* col = cols[static_cast<size_t>(t)].template data<T>();
    gemm(true, false, K, L, Cin, T(1), wp, K, xp + n * Cin * L, L, T(0), col, L);
    T* yn = yp + n * Cout * S;
    std::fill(yn, yn + Cout * S, T(0));
    col2vol(col, yn, g);
    if (bp) add_bias(yn, bp, Cout, S);
  });
}

template <class T>
void convt_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                        const ConvGeom& g, int64_t Cin) {
  const int64_t N = x.size(0), K = g.rows(), L = g.cols(), Cout = g.C, S = g.image_size();
  const int nw = workers(N);
  std::vector<Tensor> cols(static_cast<size_t>(nw)), dws;
  for (auto& c : cols) c = Tensor::empty({K * L}, x.dtype());
  if (dw.defined()) dws = zeroed_partials<T>(dw, nw);
  const T* xp = x.data<T>();
  const T* wp = w.data<T>();
  const T* gp = dy.data<T>();
  for_each_sample(N, [&](int64_t n, int t) {
    T* col = cols[static_cast<size_t>(t)].template data<T>();
    vol2col(gp + n * Cout * S, col, g);
    if (dx.defined()) gemm(false, false, Cin, L, K, T(1), wp, K, col, L, T(0), dx.data<T>() + n * Cin * L, L);
    if (dw.defined())
      gemm(false, true, Cin, K, L, T(1), xp + n * Cin * L, L, col, L, T(1), dws[static_cast<size_t>(t)].template data<T>(), K);
  });
  if (dw.defined()) reduce_partials<T>(dws, dw.numel());
  if (db.defined()) bias_grad(gp, db.data<T>(), N, Cout, S);
}

// ---------------------------------------------------------------- argument handling
// The per-dim values in the geometry's three slots (D, H, W), right-aligned; 2-D leaves the depth slot at -1 (unused).
std::vector<int64_t> expand_param(const std::vector<int64_t>& v, int sd, const char* op, const char* name) {
  const std::vector<int64_t> d = per_spatial_dim(v, sd, op, name);
  std::vector<int64_t> r(3, -1);
  for (int i = 0; i < sd; ++i) r[static_cast<size_t>(3 - sd + i)] = d[static_cast<size_t>(i)];
  return r;
}

struct Prepared {
  ConvGeom g;
  int64_t N, cin, cout;
  Shape out_shape;
};

Prepared prepare(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o, int sd, bool transposed,
                 const char* op) {
  check_float(x, op, "input");
  check_float(w, op, "weight");
  check_dim(x, sd + 2, op, "input");
  check_dim(w, sd + 2, op, "weight");
  check_same_dtype_device(x, w, op);
  auto st = expand_param(o.stride, sd, op, "stride"), pa = expand_param(o.padding, sd, op, "padding"),
       di = expand_param(o.dilation, sd, op, "dilation"), op_ = expand_param(o.output_padding, sd, op, "output_padding");
  for (int i = 3 - sd; i < 3; ++i) {
    SEG_CHECK(st[static_cast<size_t>(i)] > 0 && di[static_cast<size_t>(i)] > 0 && pa[static_cast<size_t>(i)] >= 0, op,
              ": stride and dilation must be positive and padding non-negative");
  }
  SEG_CHECK(o.padding_mode == "zeros" || o.padding_mode == "reflect", op, ": padding_mode must be 'zeros' or 'reflect', got '",
            o.padding_mode, "'");
  const bool reflect = o.padding_mode == "reflect";
  SEG_CHECK(!(reflect && transposed), op, ": only 'zeros' padding is supported for transposed convolutions");
  Prepared p;
  p.N = x.size(0);
  const int64_t xc = x.size(1);
  const int64_t wc0 = w.size(0), wc1 = w.size(1);
  if (!transposed) {
    SEG_CHECK(wc1 == xc, op, ": weight ", w.describe(), " expects ", wc1, " input channels, input ", x.describe(), " has ", xc);
    p.cin = xc;
    p.cout = wc0;
  } else {
    SEG_CHECK(wc0 == xc, op, ": weight ", w.describe(), " expects ", wc0, " input channels, input ", x.describe(), " has ", xc);
    p.cin = xc;
    p.cout = wc1;
  }
  if (b.defined()) {
    check_same_dtype_device(x, b, op);
    SEG_CHECK(b.dim() == 1 && b.numel() == p.cout, op, ": bias must have ", p.cout, " elements, got ", b.describe());
  }
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  for (int i = 0; i < sd; ++i) {
    in[3 - sd + i] = x.size(2 + i);
    k[3 - sd + i] = w.size(2 + i);
  }
  for (int i = 3 - sd; i < 3; ++i) {
    const auto s = static_cast<size_t>(i);
    if (!transposed) {
      if (reflect)
        SEG_CHECK(pa[s] < in[i], op, ": reflection padding ", pa[s], " must be smaller than the input size ", in[i], " (",
                  x.describe(), ")");
      const int64_t eff = in[i] + 2 * pa[s] - di[s] * (k[i] - 1) - 1;
      SEG_CHECK(eff >= 0, op, ": input ", x.describe(), " is smaller than the dilated kernel ", w.describe());
      out[i] = eff / st[s] + 1;
      SEG_CHECK(op_[s] == 0, op, ": output_padding is for transposed convolutions");
    } else {
      SEG_CHECK(op_[s] >= 0 && (op_[s] < st[s] || op_[s] < di[s]), op, ": output_padding ", op_[s],
                " must be smaller than stride or dilation");
      out[i] = (in[i] - 1) * st[s] - 2 * pa[s] + di[s] * (k[i] - 1) + op_[s] + 1;
      SEG_CHECK(out[i] > 0, op, ": output size would be ", out[i], " for input ", x.describe());
    }
  }
  ConvGeom& g = p.g;
  // image grid: input (plain) or output (transposed); column grid: the other one
  const int64_t* img = transposed ? out : in;
  const int64_t* colg = transposed ? in : out;
  g.C = transposed ? p.cout : p.cin;
  g.D = img[0]; g.H = img[1]; g.W = img[2];
  g.OD = colg[0]; g.OH = colg[1]; g.OW = colg[2];
  g.kd = k[0]; g.kh = k[1]; g.kw = k[2];
  g.sd = sd == 3 ? st[0] : 1; g.sh = st[1]; g.sw = st[2];
  g.pd = sd == 3 ? pa[0] : 0; g.ph = pa[1]; g.pw = pa[2];
  g.dd = sd == 3 ? di[0] : 1; g.dh = di[1]; g.dw = di[2];
  g.reflect = reflect;
  p.out_shape = {p.N, p.cout};
  for (int i = 3 - sd; i < 3; ++i) p.out_shape.push_back(out[i]);
  return p;
}

Tensor conv_any(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o, int sd, bool transposed) {
  const char* op = transposed ? (sd == 2 ? "conv_transpose2d" : "conv_transpose3d") : (sd == 2 ? "conv2d" : "conv3d");
  Prepared p = prepare(x, w, b, o, sd, transposed, op);
  Tensor y = Tensor::empty(p.out_shape, x.dtype(), x.device());
  const bool fast = !x.is_cuda() && onednn::usable(p.g, p.N, transposed ? p.cin : p.cout, transposed, x.dtype(),
                                                    b.defined());
  on_device(
      x, op,
      [&] {
        if (transposed) cuda::conv_transpose_forward(x, w, b, y, p.g);
        else cuda::conv_forward(x, w, b, y, p.g);
      },
      [&](auto tag) {
        using T = decltype(tag);
        if (fast) {  // float32 only
          if (transposed) onednn::conv_transpose_forward(x, w, b, y, p.g, p.cin);
          else onednn::conv_forward(x, w, b, y, p.g, p.cout);
        } else if (transposed) {
          convt_forward_cpu<T>(x, w, b, y, p.g, p.cin);
        } else {
          conv_forward_cpu<T>(x, w, b, y, p.g, p.cout);
        }
      });
  return record(op, y, {x, w, b}, [&] {
    const bool nw = input_needs_grad(w);
    return [xs = nw ? x.detach() : Tensor(), xshape = x.shape(), ws = w.detach(), has_b = b.defined(),
            nx = input_needs_grad(x), nw, nb = input_needs_grad(b), p, transposed, fast,
            op](const Tensor& dy) -> std::vector<Tensor> {
      Tensor dx = grad_buffer(nx, xshape, dy), dw = grad_buffer(nw, ws.shape(), dy);
      Tensor db = grad_buffer(nb && has_b, {p.cout}, dy);
      on_device(
          dy, op,
          [&] {
            if (transposed) cuda::conv_transpose_backward(xs, ws, dy, dx, dw, db, p.g);
            else cuda::conv_backward(xs, ws, dy, dx, dw, db, p.g);
          },
          [&](auto tag) {
            using T = decltype(tag);
            // x is only needed for dW; pass a shape-only stand-in otherwise
            const Tensor xin = xs.defined() ? xs : Tensor::empty({xshape[0], xshape[1]}, dy.dtype(), Device::CPU);
            if (fast && dy.dtype() == DType::Float32) {
              if (transposed) onednn::conv_transpose_backward(xin, ws, dy, dx, dw, db, p.g, p.cin, has_b);
              else onednn::conv_backward(xin, ws, dy, dx, dw, db, p.g, p.cout, has_b);
            } else if (transposed) {
              convt_backward_cpu<T>(xin, ws, dy, dx, dw, db, p.g, p.cin);
            } else {
              conv_backward_cpu<T>(xin, ws, dy, dx, dw, db, p.g, p.cout);
            }
          });
      return {dx, dw, db};
    };
  });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o) { return conv_any(x, w, b, o, 2, false); }
Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o) { return conv_any(x, w, b, o, 3, false); }
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o) {
  return conv_any(x, w, b, o, 2, true);
}
Tensor conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& o) {
  return conv_any(x, w, b, o, 3, true);
}

}  // namespace seg
