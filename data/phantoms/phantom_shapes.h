// Shared building blocks of the phantoms: smooth value noise (shape deformation, texture, bias fields), Rician
// magnitude noise for MRI, and the path helper of each official layout.
// Key decision: everything is a pure function of (stream, position), so phantoms are identical on any grid order or
// thread count, and a coarse grid samples the same anatomy as a fine one.
#pragma once
#include <cmath>
#include <cstdint>

#include "data/phantoms/phantom_random.h"

namespace seg {

// Hash of a lattice point to [-1, 1].
inline double lattice_value(uint64_t s, int64_t i, int64_t j, int64_t k) {
  const uint64_t h = splitmix64(s ^ splitmix64(static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull ^
                                               splitmix64(static_cast<uint64_t>(j) * 0xC2B2AE3D27D4EB4Full ^ static_cast<uint64_t>(k))));
  return static_cast<double>(h >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

// Smooth value noise in [-1, 1] with feature size `cell` (same units as x, y, z): smoothstep-weighted trilinear
// interpolation of hashed lattice values.
inline double value_noise(uint64_t s, double x, double y, double z, double cell) {
  const double fx = x / cell, fy = y / cell, fz = z / cell;
  const double x0 = std::floor(fx), y0 = std::floor(fy), z0 = std::floor(fz);
  auto sm = [](double t) { return t * t * (3 - 2 * t); };
  const double tx = sm(fx - x0), ty = sm(fy - y0), tz = sm(fz - z0);
  const auto i = static_cast<int64_t>(x0), j = static_cast<int64_t>(y0), k = static_cast<int64_t>(z0);
  double acc = 0;
  for (int c = 0; c < 8; ++c) {
    const int a = c & 1, b = (c >> 1) & 1, e = c >> 2;
    acc += (a ? tx : 1 - tx) * (b ? ty : 1 - ty) * (e ? tz : 1 - tz) * lattice_value(s, i + a, j + b, k + e);
  }
  return acc;
}

// |signal + N(0,σ²) + i·N(0,σ²)|: MRI magnitude noise, one Box–Muller pair per voxel index.
inline double rician(double signal, double sigma, uint64_t stream, uint64_t index) {
  const auto [a, b] = phantom_normal_pair(stream, index);
  return std::hypot(signal + sigma * a, sigma * b);
}

}  // namespace seg
