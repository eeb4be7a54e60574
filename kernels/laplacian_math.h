// Graph-Laplacian arithmetic shared by CPU and CUDA, as a stencil (the matrix L = D − A is never formed).
// pᵀLp = Σ over unordered neighbour pairs (p_a − p_b)²: each pair is visited once through the "half" offsets (the
// lexicographically positive ones); the gradient 2·(Lp)_a = 2·Σ_{b ~ a} (p_a − p_b) uses both signs of each offset.
#pragma once
#include <cstdint>

#include "engine/hd.h"

namespace seg {

// The half offsets (dz, dy, dx) of a connectivity (4 or 8 in 2-D, 6 or 26 in 3-D) into o; returns their count
// (2, 4, 3 or 13), 0 for an unknown connectivity.
SEG_HD int laplacian_half_offsets(int connectivity, int o[13][3]) {
  int n = 0;
  for (int dz = -1; dz <= 1; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const bool positive = dz > 0 || (dz == 0 && (dy > 0 || (dy == 0 && dx > 0)));
        if (!positive) continue;
        const int nz = (dz != 0) + (dy != 0) + (dx != 0);
        bool take = false;
        if (connectivity == 4) take = dz == 0 && nz == 1;
        else if (connectivity == 8) take = dz == 0;
        else if (connectivity == 6) take = nz == 1;
        else if (connectivity == 26) take = true;
        if (take) {
          o[n][0] = dz; o[n][1] = dy; o[n][2] = dx;
          ++n;
        }
      }
  return n;
}

// Σ over the half offsets of (p(z,y,x) − p(neighbour))² for neighbours inside the (D, H, W) plane.
template <class T>
SEG_HD double laplacian_pairs_at(const T* p, int64_t D, int64_t H, int64_t W, int64_t z, int64_t y, int64_t x,
                                 const int (*o)[3], int n) {
  const double v = static_cast<double>(p[(z * H + y) * W + x]);
  double acc = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t zz = z + o[i][0], yy = y + o[i][1], xx = x + o[i][2];
    if (zz < 0 || zz >= D || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
    const double d = v - static_cast<double>(p[(zz * H + yy) * W + xx]);
    acc += d * d;
  }
  return acc;
}

// (Lp)(z,y,x) = Σ_{neighbours b} (p(z,y,x) − p_b), over both signs of the half offsets.
template <class T>
SEG_HD double laplacian_apply_at(const T* p, int64_t D, int64_t H, int64_t W, int64_t z, int64_t y, int64_t x,
                                 const int (*o)[3], int n) {
  const double v = static_cast<double>(p[(z * H + y) * W + x]);
  double acc = 0;
  for (int i = 0; i < n; ++i)
    for (int s = -1; s <= 1; s += 2) {
      const int64_t zz = z + s * o[i][0], yy = y + s * o[i][1], xx = x + s * o[i][2];
      if (zz < 0 || zz >= D || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      acc += v - static_cast<double>(p[(zz * H + yy) * W + xx]);
    }
  return acc;
}

}  // namespace seg
