// Exact EDT (see distance_transform.h).
#include "data/metrics/distance_transform.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace seg {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// 1-D squared distance transform of f (n samples, spacing s) into d, using the lower envelope of parabolas.
void edt_1d(const double* f, double* d, int64_t n, double s, std::vector<int64_t>& v, std::vector<double>& z) {
  v.resize(static_cast<size_t>(n));
  z.resize(static_cast<size_t>(n) + 1);
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (!std::isfinite(f[q])) continue;
    const double pq = q * s;
    while (k >= 0) {
      const double pv = v[static_cast<size_t>(k)] * s;
      const double inter = ((f[q] + pq * pq) - (f[v[static_cast<size_t>(k)]] + pv * pv)) / (2 * (pq - pv));
      if (inter <= z[static_cast<size_t>(k)]) --k;
      else {
        ++k;
        v[static_cast<size_t>(k)] = q;
        z[static_cast<size_t>(k)] = inter;
        z[static_cast<size_t>(k) + 1] = kInf;
        break;
      }
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
    }
  }
  if (k < 0) {
    for (int64_t q = 0; q < n; ++q) d[q] = kInf;
    return;
  }
  int64_t j = 0;
  for (int64_t q = 0; q < n; ++q) {
    const double p = q * s;
    while (z[static_cast<size_t>(j) + 1] < p) ++j;
    const double dv = p - v[static_cast<size_t>(j)] * s;
    d[q] = dv * dv + f[v[static_cast<size_t>(j)]];
  }
}

}  // namespace

std::vector<double> distance_to(const std::vector<uint8_t>& target, const std::array<int64_t, 3>& dims,
                                const std::array<double, 3>& spacing) {
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2], n = nx * ny * nz;
  if (static_cast<int64_t>(target.size()) != n) throw std::invalid_argument("distance_to: mask size does not match dims");
  std::vector<double> g(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) g[static_cast<size_t>(i)] = target[static_cast<size_t>(i)] ? 0.0 : kInf;
  const int64_t len[3] = {nx, ny, nz}, stride[3] = {1, nx, nx * ny};
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t L = len[axis], st = stride[axis];
    if (L <= 1) continue;
    const int64_t lines = n / L;
#pragma omp parallel
    {
      std::vector<double> f(static_cast<size_t>(L)), d(static_cast<size_t>(L)), z;
      std::vector<int64_t> v;
#pragma omp for
      for (int64_t line = 0; line < lines; ++line) {
        // the start of this line: decompose the line index over the other two axes
        int64_t base;
        if (axis == 0) base = line * nx;
        else if (axis == 1) base = (line / nx) * nx * ny + (line % nx);
        else base = line;
        for (int64_t i = 0; i < L; ++i) f[static_cast<size_t>(i)] = g[static_cast<size_t>(base + i * st)];
        edt_1d(f.data(), d.data(), L, spacing[static_cast<size_t>(axis)], v, z);
        for (int64_t i = 0; i < L; ++i) g[static_cast<size_t>(base + i * st)] = d[static_cast<size_t>(i)];
      }
    }
  }
  for (auto& x : g) x = std::sqrt(x);
  return g;
}

std::vector<uint8_t> surface_of(const std::vector<uint8_t>& m, const std::array<int64_t, 3>& dims) {
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  std::vector<uint8_t> s(m.size(), 0);
  auto fg = [&](int64_t x, int64_t y, int64_t z) {
    return x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz && m[static_cast<size_t>(x + nx * (y + ny * z))];
  };
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        if (!fg(x, y, z)) continue;
        bool edge = !fg(x - 1, y, z) || !fg(x + 1, y, z) || !fg(x, y - 1, z) || !fg(x, y + 1, z);
        if (nz > 1) edge = edge || !fg(x, y, z - 1) || !fg(x, y, z + 1);
        s[static_cast<size_t>(x + nx * (y + ny * z))] = edge;
      }
  return s;
}

}  // namespace seg
