// Source-index arithmetic of the resize ops, shared by the CPU (upsample.cpp) and CUDA (upsample.cu) kernels.
// It reproduces PyTorch 1.13 (aten/src/ATen/native/UpSample.h) exactly, including its quirks, because models trained
// in PyTorch are compared against ours:
// - linear: ratio = (in-1)/(out-1) with align_corners (0 when out == 1); otherwise 1/scale_factor when the caller gave
//   one (F.interpolate(scale_factor=s)), else in/out. src = ratio·(o+0.5)−0.5 clamped at 0 (align_corners: ratio·o).
//   An axis whose output size equals its input size is copied (PyTorch's CPU kernel special-cases it).
// - nearest ('nearest', not 'nearest-exact'): out == in copies, out == 2·in halves, otherwise
//   src = min(floor(o · scale), in−1) with scale computed *in float* (1/scale_factor or in/out), as PyTorch does.
// The arithmetic runs in the tensor's scalar type T (float32 on the GPU, float64 in the gradient checks), as PyTorch's
// opmath type does on the CPU.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/hd.h"

namespace seg {

enum class UpsampleMode : int { Nearest, Linear };

struct UpsampleGeom {
  int64_t planes = 1;               // N·C
  int64_t D = 1, H = 1, W = 1;      // input plane (2-D: D = OD = 1)
  int64_t OD = 1, OH = 1, OW = 1;   // output plane
  double scale_d = 0, scale_h = 0, scale_w = 0;  // the caller's scale_factor per axis; 0 = none (use in/out)
  bool align_corners = false;       // linear only
  SEG_HD int64_t in_plane() const { return D * H * W; }
  SEG_HD int64_t out_plane() const { return OD * OH * OW; }
};

// PyTorch's compute_scales_value: 1/scale_factor when given, else in/out.
template <class T>
SEG_HD T upsample_scale_value(double scale, int64_t in, int64_t out) {
  return scale > 0 ? static_cast<T>(1.0 / scale) : static_cast<T>(in) / static_cast<T>(out);
}

// PyTorch's area_pixel_compute_scale.
template <class T>
SEG_HD T linear_ratio(int64_t in, int64_t out, bool align_corners, double scale) {
  if (align_corners) return out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  return upsample_scale_value<T>(scale, in, out);
}

// The two taps and weights of output coordinate o along one axis (PyTorch's compute_source_index_and_lambda).
template <class T>
SEG_HD void linear_taps(T ratio, int64_t o, int64_t in, int64_t out, bool align_corners, int64_t& i0, int64_t& i1,
                        T& l0, T& l1) {
  if (in == out) {
    i0 = i1 = o;
    l0 = T(1);
    l1 = T(0);
    return;
  }
  T src = align_corners ? ratio * static_cast<T>(o) : ratio * (static_cast<T>(o) + T(0.5)) - T(0.5);
  if (src < T(0)) src = T(0);
  i0 = static_cast<int64_t>(src);
  if (i0 > in - 1) i0 = in - 1;
  i1 = i0 + (i0 < in - 1 ? 1 : 0);
  T l = src - static_cast<T>(i0);
  l = l < T(0) ? T(0) : (l > T(1) ? T(1) : l);
  l1 = l;
  l0 = T(1) - l;
}

// PyTorch's nearest_idx (mode 'nearest').
SEG_HD int64_t nearest_source(int64_t o, int64_t in, int64_t out, double scale) {
  if (out == in) return o;
  if (out == 2 * in) return o >> 1;
  const float s = upsample_scale_value<float>(scale, in, out);
  const int64_t i = static_cast<int64_t>(floorf(static_cast<float>(o) * s));
  return i < in - 1 ? i : in - 1;
}

}  // namespace seg
