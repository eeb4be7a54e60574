// The geometry shared by every convolution path (CPU im2col, CUDA): an image grid (C, D, H, W), a kernel, and the
// column grid (OD, OH, OW) it is unrolled onto. 2-D convolutions are the D = kd = 1 case.
// For a plain convolution the image is the input and the column grid the output; for a transposed convolution the
// image is the output and the column grid the input (the transposed conv is the data-gradient of a plain conv).
#pragma once
#include <cstdint>

#include "engine/hd.h"

namespace seg {

struct ConvGeom {
  int64_t C = 1, D = 1, H = 1, W = 1;     // image grid
  int64_t kd = 1, kh = 1, kw = 1;
  int64_t sd = 1, sh = 1, sw = 1;
  int64_t pd = 0, ph = 0, pw = 0;
  int64_t dd = 1, dh = 1, dw = 1;
  int64_t OD = 1, OH = 1, OW = 1;         // column grid
  bool reflect = false;                   // reflection padding instead of zeros
  SEG_HD int64_t ksize() const { return kd * kh * kw; }
  SEG_HD int64_t rows() const { return C * kd * kh * kw; }
  SEG_HD int64_t cols() const { return OD * OH * OW; }
  SEG_HD int64_t image_size() const { return D * H * W; }
};

// Image coordinate for column coordinate o and kernel tap k along one axis; -1 when it falls in zero padding.
SEG_HD int64_t conv_source_index(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t n, bool reflect) {
  int64_t i = o * stride - pad + k * dil;
  if (i >= 0 && i < n) return i;
  if (!reflect) return -1;
  if (i < 0) i = -i;                 // reflect about 0 (edge not repeated), as torch 'reflect'
  if (i >= n) i = 2 * (n - 1) - i;
  return (i >= 0 && i < n) ? i : -1;
}

// The inverse map with zero padding: the column coordinate o whose tap k reads image coordinate i
// (i = o·stride − pad + k·dil), or -1 when no column position does (off the stride grid, or outside [0, n_cols)).
// A transposed convolution's source index: its image grid is the output, its column grid the input.
SEG_HD int64_t conv_column_index(int64_t i, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t n_cols) {
  const int64_t num = i + pad - k * dil;
  if (num < 0 || num % stride != 0) return -1;
  const int64_t o = num / stride;
  return o < n_cols ? o : -1;
}

}  // namespace seg
