// Test-time degradations (see degrade.h).
#include "data/transforms/degrade.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "data/phantoms/phantom_random.h"
#include "data/transforms/filters.h"

namespace seg {

namespace {
float clip01(double x, bool clip) { return static_cast<float>(clip ? std::clamp(x, 0.0, 1.0) : x); }
}  // namespace

Volume degrade_gaussian_noise(const Volume& v, double sigma, uint64_t seed, bool clip) {
  if (!(sigma >= 0)) throw std::invalid_argument("gaussian noise: sigma must be >= 0");
  Volume out = v;
  out.datatype = "float32";
  const uint64_t s = splitmix64(seed ^ 0x6A09E667F3BCC909ull);
#pragma omp parallel for
  for (int64_t i = 0; i < static_cast<int64_t>(v.data.size()); ++i)
    out.data[static_cast<size_t>(i)] = clip01(v.data[static_cast<size_t>(i)] + sigma * phantom_normal(s, static_cast<uint64_t>(i)), clip);
  return out;
}

Volume degrade_gaussian_blur(const Volume& v, double sigma_px, bool clip) {
  Volume out = gaussian_blur_2d(v, sigma_px);
  out.datatype = "float32";
  for (auto& x : out.data) x = clip01(x, clip);
  return out;
}

int64_t poisson_draw(double lambda, uint64_t stream, uint64_t index) {
  if (!(lambda >= 0) || !std::isfinite(lambda)) throw std::invalid_argument("poisson: lambda must be finite and >= 0");
  if (lambda == 0) return 0;
  PhantomRandom r(stream, index);
  if (lambda < 30) {
    const double L = std::exp(-lambda);
    int64_t k = 0;
    double p = r.uniform();
    while (p > L) {
      ++k;
      p *= r.uniform();
    }
    return k;
  }
  // PTRS (Hörmann 1993), as numpy's legacy generator uses for lam >= 10
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b, invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double U = r.uniform() - 0.5, V = r.uniform(), us = 0.5 - std::fabs(U);
    const double k = std::floor((2 * a / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return static_cast<int64_t>(k);
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (std::log(V) + std::log(invalpha) - std::log(a / (us * us) + b) <= -lambda + k * loglam - std::lgamma(k + 1))
      return static_cast<int64_t>(k);
  }
}

Volume degrade_shot_noise(const Volume& v, double c, uint64_t seed, bool clip) {
  if (!(c > 0)) throw std::invalid_argument("shot noise: c must be > 0");
  Volume out = v;
  out.datatype = "float32";
  const uint64_t s = splitmix64(seed ^ 0xBB67AE8584CAA73Bull);
#pragma omp parallel for
  for (int64_t i = 0; i < static_cast<int64_t>(v.data.size()); ++i) {
    const double lam = std::max(0.0, static_cast<double>(v.data[static_cast<size_t>(i)]) * c);  // Poisson needs λ >= 0
    out.data[static_cast<size_t>(i)] = clip01(static_cast<double>(poisson_draw(lam, s, static_cast<uint64_t>(i))) / c, clip);
  }
  return out;
}

}  // namespace seg
