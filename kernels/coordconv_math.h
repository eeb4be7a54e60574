// The arithmetic of fused CoordConv shared by the CPU and CUDA backends.
// CoordConv = conv(cat([x, coordinate channels]), W). The coordinate channels' contribution to output position o is
//   M[co, o] = Σ_taps Σ_c Wc[co, c, tap] · coord_c(src(o, tap)) · valid(src(o, tap)),
// which depends only on the position and the coordinate weights Wc, never on the data: we compute it on the fly
// (never materialising the channels) and add it (with the bias) to the image part's convolution. Every factor is
// separable over the spatial axes: a tap's source along an axis depends on that axis' output index and tap only, the
// coordinate channel c varies along one axis, and the zero-padding validity is a product of per-axis validities.
// So each axis is described by a small (output index, tap) → (valid, coordinate) table: CoordAxis + coord_axis_tap.
// Plain conv: src = o·s − p + t·d on the input grid (reflection folds it back inside for padding_mode reflect);
// transposed conv: the input position i with i·s − p + t·d = o (coordinates live on the input grid in both cases).
#pragma once
#include <cstdint>

#include "engine/hd.h"
#include "kernels/conv_geom.h"

namespace seg {

struct CoordAxis {
  int64_t n_in = 1, n_out = 1, k = 1;  // input (coordinate) grid length, output length, taps
  int64_t stride = 1, pad = 0, dil = 1;
  bool reflect = false, transposed = false;
  double lo = 0, step = 0;             // coordinate of input index i: lo + step·i (step 0 when n_in == 1)
};

// 2-D: axes {trivial, H, W} and coordinate channels [Y, X]; 3-D: axes {D, H, W} and channels [Z, Y, X].
// Channel c varies along axis (3 − ncoord + c). The coordinate weights: Wc(co, c, tap) = wc[co·w_so + c·w_sc + tap],
// tap = (kz·kh + ky)·kw + kx ((C_out, nc, k…) for a plain conv; (nc, C_out, k…) for a transposed one).
struct CoordGeom {
  CoordAxis ax[3];
  int ncoord = 2;
  int64_t cout = 1;
  int64_t w_so = 0, w_sc = 0;
  int64_t taps() const { return ax[0].k * ax[1].k * ax[2].k; }
  int64_t out_size() const { return ax[0].n_out * ax[1].n_out * ax[2].n_out; }
};

// The coordinate of input index i in [0, n): lo + (hi − lo)·i/(n − 1); a length-1 axis has the single coordinate lo
// (torch.linspace(lo, hi, 1) == [lo]).
SEG_HD double coord_step(double lo, double hi, int64_t n) { return n > 1 ? (hi - lo) / static_cast<double>(n - 1) : 0.0; }

// The source of output index o, tap t along one axis: returns whether it is inside the input grid (false = zero
// padding, or no input position maps there in a transposed conv) and writes its coordinate.
SEG_HD bool coord_axis_tap(const CoordAxis& a, int64_t o, int64_t t, double* coord) {
  int64_t i;
  if (!a.transposed) {
    i = conv_source_index(o, t, a.stride, a.pad, a.dil, a.n_in, a.reflect);
    if (i < 0) return false;
  } else {
    i = conv_column_index(o, t, a.stride, a.pad, a.dil, a.n_in);  // the output is the transposed conv's image grid
    if (i < 0) return false;
  }
  *coord = a.lo + a.step * static_cast<double>(i);
  return true;
}

// M[co, (oz, oy, ox)] plus the bias, by direct summation over all taps (one output element; what a simple CUDA thread
// computes; the CPU folds the same sum row by row).
template <class T>
SEG_HD T coord_map_at(const CoordGeom& g, const T* wc, const T* bias, int64_t co, int64_t oz, int64_t oy, int64_t ox) {
  double m = bias ? static_cast<double>(bias[co]) : 0.0;
  const int64_t o[3] = {oz, oy, ox};
  const int first = 3 - g.ncoord;
  for (int64_t kz = 0; kz < g.ax[0].k; ++kz)
    for (int64_t ky = 0; ky < g.ax[1].k; ++ky)
      for (int64_t kx = 0; kx < g.ax[2].k; ++kx) {
        const int64_t t[3] = {kz, ky, kx};
        double c[3] = {0, 0, 0};
        bool valid = true;
        for (int a = 0; a < 3; ++a) valid = valid && coord_axis_tap(g.ax[a], o[a], t[a], &c[a]);
        if (!valid) continue;
        const int64_t tap = (kz * g.ax[1].k + ky) * g.ax[2].k + kx;
        for (int ch = 0; ch < g.ncoord; ++ch) m += static_cast<double>(wc[co * g.w_so + ch * g.w_sc + tap]) * c[first + ch];
      }
  return static_cast<T>(m);
}

// dWc(co, c, tap) = Σ_pixels S[co, pixel] · coord_c(src) · valid(src), S = Σ_n dy[n, co]; one weight per call (a CUDA
// block reduces over the pixels). `s` is S of channel co, laid out (OD, OH, OW).
template <class T>
SEG_HD double coord_weight_grad_at(const CoordGeom& g, const T* s, int ch, int64_t tap) {
  const int64_t kx = tap % g.ax[2].k, ky = (tap / g.ax[2].k) % g.ax[1].k, kz = tap / (g.ax[2].k * g.ax[1].k);
  const int64_t t[3] = {kz, ky, kx};
  const int axis = 3 - g.ncoord + ch;
  double acc = 0;
  for (int64_t oz = 0; oz < g.ax[0].n_out; ++oz)
    for (int64_t oy = 0; oy < g.ax[1].n_out; ++oy)
      for (int64_t ox = 0; ox < g.ax[2].n_out; ++ox) {
        const int64_t o[3] = {oz, oy, ox};
        double c[3] = {0, 0, 0};
        bool valid = true;
        for (int a = 0; a < 3; ++a) valid = valid && coord_axis_tap(g.ax[a], o[a], t[a], &c[a]);
        if (valid) acc += static_cast<double>(s[(oz * g.ax[1].n_out + oy) * g.ax[2].n_out + ox]) * c[axis];
      }
  return acc;
}

}  // namespace seg
