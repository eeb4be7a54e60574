// Segmentation metrics (see segmentation_metrics.h).
#include "data/metrics/segmentation_metrics.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "data/metrics/distance_transform.h"

namespace seg {

double dice_of(const uint8_t* p, const uint8_t* g, int64_t n) {
  int64_t a = 0, b = 0, i = 0;
  for (int64_t k = 0; k < n; ++k) {
    a += p[k] != 0;
    b += g[k] != 0;
    i += (p[k] != 0) && (g[k] != 0);
  }
  if (a + b == 0) return 1.0;
  return 2.0 * static_cast<double>(i) / static_cast<double>(a + b);
}

namespace {
double percentile_linear(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}
}  // namespace

BinaryScores binary_scores(const uint8_t* pred, const uint8_t* gt, const std::array<int64_t, 3>& dims,
                           const std::array<double, 3>& spacing) {
  const int64_t n = dims[0] * dims[1] * dims[2];
  std::vector<uint8_t> A(pred, pred + n), B(gt, gt + n);
  for (auto& v : A) v = v != 0;
  for (auto& v : B) v = v != 0;
  int64_t na = 0, nb = 0, ni = 0;
  for (int64_t k = 0; k < n; ++k) {
    na += A[static_cast<size_t>(k)];
    nb += B[static_cast<size_t>(k)];
    ni += A[static_cast<size_t>(k)] & B[static_cast<size_t>(k)];
  }
  BinaryScores s;
  const double inf = std::numeric_limits<double>::infinity();
  if (na == 0 && nb == 0) return {1, 1, 0, 0, 0};
  s.dice = 2.0 * static_cast<double>(ni) / static_cast<double>(na + nb);
  s.jaccard = static_cast<double>(ni) / static_cast<double>(na + nb - ni);
  if (na == 0 || nb == 0) {
    s.hd = s.hd95 = s.assd = inf;
    return s;
  }
  const std::vector<double> dA = distance_to(A, dims, spacing), dB = distance_to(B, dims, spacing);
  double h = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (A[static_cast<size_t>(k)]) h = std::max(h, dB[static_cast<size_t>(k)]);
    if (B[static_cast<size_t>(k)]) h = std::max(h, dA[static_cast<size_t>(k)]);
  }
  s.hd = h;
  const std::vector<uint8_t> sA = surface_of(A, dims), sB = surface_of(B, dims);
  const std::vector<double> dsA = distance_to(sA, dims, spacing), dsB = distance_to(sB, dims, spacing);
  std::vector<double> ab, ba;
  for (int64_t k = 0; k < n; ++k) {
    if (sA[static_cast<size_t>(k)]) ab.push_back(dsB[static_cast<size_t>(k)]);
    if (sB[static_cast<size_t>(k)]) ba.push_back(dsA[static_cast<size_t>(k)]);
  }
  auto mean = [](const std::vector<double>& v) {
    double t = 0;
    for (double x : v) t += x;
    return t / static_cast<double>(v.size());
  };
  s.assd = 0.5 * (mean(ab) + mean(ba));
  std::vector<double> all = ab;
  all.insert(all.end(), ba.begin(), ba.end());
  s.hd95 = percentile_linear(all, 95.0);
  return s;
}

double paired_t_test_p(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) throw std::invalid_argument("paired_t_test_p: needs two equal-length samples of at least 2");
  const double n = static_cast<double>(a.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m += a[i] - b[i];
  m /= n;
  double var = 0;
  for (size_t i = 0; i < a.size(); ++i) var += (a[i] - b[i] - m) * (a[i] - b[i] - m);
  var /= n - 1;
  if (var == 0) return m == 0 ? 1.0 : 0.0;
  const double t = m / std::sqrt(var / n);
  boost::math::students_t dist(n - 1);
  return 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(t)));
}

}  // namespace seg
