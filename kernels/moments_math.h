// Raw-moment arithmetic shared by CPU and CUDA. 2-D: [μ00, μ10, μ01, μ20, μ11, μ02] with μpq = Σ p·x^p·y^q;
// 3-D: [μ000, μ100, μ010, μ001, μ200, μ020, μ002, μ110, μ101, μ011] (exponents of x, y, z); x = column, y = row,
// z = slice, in pixels from 0. The basis (the monomials) is also the gradient: ∂μ_m/∂p(x, y, z) = basis_m(x, y, z).
#pragma once
#include <cstdint>

#include "engine/hd.h"

namespace seg {

constexpr int kMoments2d = 6;
constexpr int kMoments3d = 10;

// The monomials at (x, y, z) in output order; sd = 2 writes 6 values (z ignored), sd = 3 writes 10.
SEG_HD void moment_basis(int sd, double x, double y, double z, double* m) {
  if (sd == 2) {
    m[0] = 1; m[1] = x; m[2] = y; m[3] = x * x; m[4] = x * y; m[5] = y * y;
  } else {
    m[0] = 1; m[1] = x; m[2] = y; m[3] = z; m[4] = x * x; m[5] = y * y; m[6] = z * z; m[7] = x * y; m[8] = x * z; m[9] = y * z;
  }
}

// Combines one row's sums over x (r0 = Σ p, r1 = Σ p·x, r2 = Σ p·x²) at row y, slice z into the moments (acc += ...).
SEG_HD void moments_add_row(int sd, double y, double z, double r0, double r1, double r2, double* acc) {
  if (sd == 2) {
    acc[0] += r0; acc[1] += r1; acc[2] += y * r0; acc[3] += r2; acc[4] += y * r1; acc[5] += y * y * r0;
  } else {
    acc[0] += r0; acc[1] += r1; acc[2] += y * r0; acc[3] += z * r0; acc[4] += r2; acc[5] += y * y * r0;
    acc[6] += z * z * r0; acc[7] += y * r1; acc[8] += z * r1; acc[9] += y * z * r0;
  }
}

// The gradient along one row as a polynomial in x: dp(x) = c0 + c1·x + c2·x², from the moment gradients g.
SEG_HD void moments_row_grad(int sd, double y, double z, const double* g, double* c0, double* c1, double* c2) {
  if (sd == 2) {
    *c0 = g[0] + g[2] * y + g[5] * y * y;
    *c1 = g[1] + g[4] * y;
    *c2 = g[3];
  } else {
    *c0 = g[0] + g[2] * y + g[3] * z + g[5] * y * y + g[6] * z * z + g[9] * y * z;
    *c1 = g[1] + g[7] * y + g[8] * z;
    *c2 = g[4];
  }
}

}  // namespace seg
