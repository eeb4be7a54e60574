// Max-pooling geometry and the per-window arithmetic shared by the CPU (pool.cpp) and CUDA (pool.cu) kernels.
// 2-D pooling is the D = kd = sd = 1 case of 3-D pooling, so one geometry and one window function serve both.
// Indices are flat offsets into each (n, c) input plane (d·H·W + h·W + w), as PyTorch's return_indices gives them.
#pragma once
#include <cstdint>

#include "engine/hd.h"

namespace seg {

struct PoolGeom {
  int64_t planes = 1;                 // N·C
  int64_t D = 1, H = 1, W = 1;        // input plane
  int64_t kd = 1, kh = 1, kw = 1;
  int64_t sd = 1, sh = 1, sw = 1;
  int64_t OD = 1, OH = 1, OW = 1;     // output plane (floor mode, no padding)
  int64_t in_plane() const { return D * H * W; }
  int64_t out_plane() const { return OD * OH * OW; }
};

// Floor-mode output size with no padding and no dilation; the caller checks in >= k.
SEG_HD int64_t pool_out_size(int64_t in, int64_t k, int64_t s) { return (in - k) / s + 1; }

// Max and argmax of the window of output (od, oh, ow) in one input plane, PyTorch's rule: an element replaces the
// current best when it is greater or NaN (so NaN propagates; the last NaN wins), and on ties the first element in
// row-major window order is kept. The update is written as selects so it compiles to conditional moves: with random
// data a branch would mispredict about every other comparison.
template <class T>
SEG_HD void max_pool_window(const T* plane, const PoolGeom& g, int64_t od, int64_t oh, int64_t ow, T& best_out,
                            int64_t& best_idx_out) {
  // Locals, not the out-references: those may point into memory the compiler must assume aliases `plane`.
  const int64_t H = g.H, W = g.W, kd = g.kd, kh = g.kh, kw = g.kw;
  const int64_t d0 = od * g.sd, h0 = oh * g.sh, w0 = ow * g.sw;
  int64_t best_idx = (d0 * H + h0) * W + w0;
  T best = plane[best_idx];
  for (int64_t a = 0; a < kd; ++a)
    for (int64_t b = 0; b < kh; ++b) {
      const int64_t row = ((d0 + a) * H + h0 + b) * W + w0;
      for (int64_t c = 0; c < kw; ++c) {
        const T v = plane[row + c];
        const bool take = (v > best) | (v != v);  // v != v: NaN
        best = take ? v : best;
        best_idx = take ? row + c : best_idx;
      }
    }
  best_out = best;
  best_idx_out = best_idx;
}

}  // namespace seg
