// Gaussian blur (see filters.h).
#include "data/transforms/filters.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace seg {

namespace {

// scipy.ndimage's 'reflect' index for an out-of-range tap: (d c b a | a b c d | d c b a).
int64_t reflect_index(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

void blur_axis(std::vector<float>& data, const std::array<int64_t, 3>& dims, int64_t channels, int axis, double sigma) {
  const int64_t radius = static_cast<int64_t>(4.0 * sigma + 0.5);
  if (sigma <= 0 || radius == 0) return;
  std::vector<double> w(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int64_t t = -radius; t <= radius; ++t) sum += w[static_cast<size_t>(t + radius)] = std::exp(-0.5 * t * t / (sigma * sigma));
  for (auto& x : w) x /= sum;
  const int64_t n = dims[static_cast<size_t>(axis)], stride = axis == 0 ? 1 : (axis == 1 ? dims[0] : dims[0] * dims[1]);
  const int64_t vox = dims[0] * dims[1] * dims[2], lines = vox / n * channels;
#pragma omp parallel
  {
    std::vector<double> line(static_cast<size_t>(n));
#pragma omp for
    for (int64_t l = 0; l < lines; ++l) {
      const int64_t c = l / (vox / n), r = l % (vox / n);
      int64_t base;  // start of line r of this axis inside one channel
      if (axis == 0) base = r * dims[0];
      else if (axis == 1) base = (r / dims[0]) * dims[0] * dims[1] + r % dims[0];
      else base = r;
      float* p = data.data() + c * vox + base;
      for (int64_t i = 0; i < n; ++i) line[static_cast<size_t>(i)] = p[i * stride];
      for (int64_t i = 0; i < n; ++i) {
        double acc = 0;
        for (int64_t t = -radius; t <= radius; ++t) acc += w[static_cast<size_t>(t + radius)] * line[static_cast<size_t>(reflect_index(i + t, n))];
        p[i * stride] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace

Volume gaussian_blur(const Volume& v, const std::array<double, 3>& sigma) {
  for (double s : sigma)
    if (!(s >= 0) || !std::isfinite(s)) throw std::invalid_argument("gaussian_blur: sigma must be finite and >= 0");
  Volume out = v;
  for (int a = 0; a < 3; ++a)
    if (v.dims[static_cast<size_t>(a)] > 1) blur_axis(out.data, out.dims, out.channels, a, sigma[static_cast<size_t>(a)]);
  return out;
}

Volume gaussian_blur_2d(const Volume& v, double sigma_px) { return gaussian_blur(v, {sigma_px, sigma_px, 0.0}); }

}  // namespace seg
