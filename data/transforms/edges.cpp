// One-hot Sobel edges (see edges.h).
#include "data/transforms/edges.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace seg {

namespace {
inline double tap(int a, bool derivative) { return derivative ? static_cast<double>(a - 1) : (a == 1 ? 2.0 : 1.0); }
}  // namespace

Volume sobel_edges_onehot(const Volume& labels, int n_classes) {
  if (n_classes < 1) throw std::invalid_argument("sobel_edges: n_classes must be >= 1");
  const int64_t nx = labels.nx(), ny = labels.ny(), nz = labels.nz(), vox = labels.voxels();
  for (float v : labels.data)
    if (std::lround(v) < 0 || std::lround(v) >= n_classes)
      throw std::invalid_argument("sobel_edges: label " + std::to_string(v) + " outside 0.." + std::to_string(n_classes - 1));
  Volume out = labels;
  out.channels = n_classes;
  out.datatype = "uint8";
  out.data.assign(static_cast<size_t>(vox * n_classes), 0.f);
  const bool three_d = nz > 1;
  const int axes0 = three_d ? 0 : 1;  // axis 0 = z, 1 = y, 2 = x
#pragma omp parallel for collapse(2)
  for (int k = 0; k < n_classes; ++k)
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t y = 0; y < ny; ++y)
        for (int64_t x = 0; x < nx; ++x) {
          bool edge = false;
          for (int axis = axes0; axis < 3 && !edge; ++axis) {
            double acc = 0;  // integer taps on 0/1 inputs: exact in double, so "non-zero" is exact
            for (int a = three_d ? 0 : 1; a < (three_d ? 3 : 2); ++a) {
              const int64_t zz = z + a - 1;
              if (zz < 0 || zz >= nz) continue;
              const double wz = three_d ? tap(a, axis == 0) : 1.0;
              if (wz == 0) continue;
              for (int b = 0; b < 3; ++b) {
                const int64_t yy = y + b - 1;
                if (yy < 0 || yy >= ny) continue;
                const double wy = tap(b, axis == 1);
                if (wy == 0) continue;
                for (int c = 0; c < 3; ++c) {
                  const int64_t xx = x + c - 1;
                  if (xx < 0 || xx >= nx) continue;
                  if (std::lround(labels.data[static_cast<size_t>(xx + nx * (yy + ny * zz))]) == k) acc += wz * wy * tap(c, axis == 2);
                }
              }
            }
            edge = acc != 0;
          }
          out.data[static_cast<size_t>(k * vox + x + nx * (y + ny * z))] = edge ? 1.f : 0.f;
        }
  return out;
}

Volume sobel_edges(const Volume& labels, int n_classes) {
  const Volume e = sobel_edges_onehot(labels, n_classes);
  Volume out = labels;
  out.channels = 1;
  out.datatype = "uint8";
  out.data.assign(static_cast<size_t>(labels.voxels()), 0.f);
  for (int k = 1; k < n_classes; ++k)
    for (int64_t i = 0; i < labels.voxels(); ++i)
      if (e.data[static_cast<size_t>(k * labels.voxels() + i)] != 0) out.data[static_cast<size_t>(i)] = 1.f;
  return out;
}

}  // namespace seg
