// Weak seeds and size bounds (see weak_labels.h).
#include "data/transforms/weak_labels.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "data/phantoms/phantom_random.h"
#include "data/transforms/resample.h"

namespace seg {

namespace {
bool is_label(float v, int label) { return std::lround(v) == label; }
}  // namespace

Volume weak_seed_labels(const Volume& labels, int label, uint64_t seed, double diameter) {
  if (!(diameter > 0)) throw std::invalid_argument("weak_seed_labels: diameter must be > 0");
  Volume out = labels;
  out.channels = 1;
  out.datatype = "uint8";
  out.data.assign(static_cast<size_t>(labels.voxels()), 0.f);
  const int64_t nx = labels.nx(), ny = labels.ny(), P = nx * ny;
  const double r = diameter / 2.0;
  const int64_t R = static_cast<int64_t>(std::ceil(r));
  for (int64_t z = 0; z < labels.nz(); ++z) {
    const float* m = labels.data.data() + z * P;
    std::vector<int64_t> fg;
    for (int64_t p = 0; p < P; ++p)
      if (is_label(m[p], label)) fg.push_back(p);
    if (fg.empty()) continue;
    PhantomRandom rng(seed, static_cast<uint64_t>(z));  // one stream per slice: a slice's seed does not depend on others
    const auto pick = std::min(static_cast<size_t>(rng.uniform() * static_cast<double>(fg.size())), fg.size() - 1);
    const int64_t c = fg[pick], cy = c / nx, cx = c % nx;
    for (int64_t y = std::max<int64_t>(0, cy - R); y <= std::min(ny - 1, cy + R); ++y)
      for (int64_t x = std::max<int64_t>(0, cx - R); x <= std::min(nx - 1, cx + R); ++x)
        if (static_cast<double>((y - cy) * (y - cy) + (x - cx) * (x - cx)) <= r * r && is_label(m[y * nx + x], label))
          out.data[static_cast<size_t>(z * P + y * nx + x)] = 1.f;
  }
  return out;
}

std::vector<int64_t> slice_areas(const Volume& labels, int label, int64_t size) {
  const Volume v = size > 0 ? resize_2d(labels, size, size, Interp::Nearest) : labels;
  const int64_t P = v.nx() * v.ny();
  std::vector<int64_t> a(static_cast<size_t>(v.nz()), 0);
  for (int64_t z = 0; z < v.nz(); ++z)
    for (int64_t p = 0; p < P; ++p) a[static_cast<size_t>(z)] += is_label(v.data[static_cast<size_t>(z * P + p)], label);
  return a;
}

std::array<double, 2> size_bounds(const std::vector<const Volume*>& maps, int label, int64_t size) {
  int64_t lo = INT64_MAX, hi = 0;
  for (const Volume* v : maps)
    for (int64_t a : slice_areas(*v, label, size))
      if (a > 0) lo = std::min(lo, a), hi = std::max(hi, a);
  if (hi == 0) return {0, 0};
  return {static_cast<double>(lo), static_cast<double>(hi)};
}

}  // namespace seg
