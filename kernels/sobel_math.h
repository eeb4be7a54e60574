// Sobel arithmetic shared by CPU and CUDA: one gradient component at one position, zero padding 1, as the correlation
// torch's conv2d/conv3d computes. The filter for an axis is the derivative [−1, 0, 1] along it times the smoothing
// [1, 2, 1] along every other axis. Its adjoint (the input gradient) is the same correlation negated, because the
// flipped filter is −filter (the derivative is odd, the smoothing even).
#pragma once
#include <cstdint>

#include "engine/hd.h"

namespace seg {

SEG_HD double sobel_tap(int a, bool derivative) { return derivative ? static_cast<double>(a - 1) : (a == 1 ? 2.0 : 1.0); }

// Component `axis` (0 = z, 1 = y, 2 = x; 2-D planes have D = 1 and use axes 1, 2 only) at (z, y, x) of a plane
// (D, H, W); positions outside the plane read as 0.
template <class T>
SEG_HD double sobel_component_at(const T* p, int64_t D, int64_t H, int64_t W, int64_t z, int64_t y, int64_t x, int axis) {
  double acc = 0;
  const int az = D > 1 ? 0 : 1, bz = D > 1 ? 3 : 2;  // 2-D: only the middle z tap, with weight 1
  for (int a = az; a < bz; ++a) {
    const int64_t zz = z + a - 1;
    if (zz < 0 || zz >= D) continue;
    const double wz = D > 1 ? sobel_tap(a, axis == 0) : 1.0;
    if (wz == 0.0) continue;
    for (int b = 0; b < 3; ++b) {
      const int64_t yy = y + b - 1;
      if (yy < 0 || yy >= H) continue;
      const double wy = sobel_tap(b, axis == 1);
      if (wy == 0.0) continue;
      const T* row = p + (zz * H + yy) * W;
      for (int c = 0; c < 3; ++c) {
        const int64_t xx = x + c - 1;
        if (xx < 0 || xx >= W) continue;
        acc += wz * wy * sobel_tap(c, axis == 2) * static_cast<double>(row[xx]);
      }
    }
  }
  return acc;
}

}  // namespace seg
