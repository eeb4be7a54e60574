// Intensity normalisation (see intensity.h).
#include "data/transforms/intensity.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace seg {

namespace {
Volume as_float(const Volume& v) {
  Volume out = v;
  out.datatype = "float32";
  return out;
}

void zscore_channel(float* p, int64_t n, bool nonzero_only) {
  double s = 0, cnt = 0;
  for (int64_t i = 0; i < n; ++i)
    if (!nonzero_only || p[i] != 0) s += p[i], cnt += 1;
  if (cnt == 0) return;
  const double mean = s / cnt;
  double var = 0;
  for (int64_t i = 0; i < n; ++i)
    if (!nonzero_only || p[i] != 0) var += (p[i] - mean) * (p[i] - mean);
  const double sd = std::sqrt(var / cnt);
  for (int64_t i = 0; i < n; ++i) {
    if (nonzero_only && p[i] == 0) continue;
    p[i] = sd > 0 ? static_cast<float>((p[i] - mean) / sd) : 0.f;
  }
}
}  // namespace

Volume minmax_normalise(const Volume& v) {
  Volume out = as_float(v);
  if (out.data.empty()) return out;
  const auto [mn, mx] = std::minmax_element(v.data.begin(), v.data.end());
  const double lo = *mn, range = static_cast<double>(*mx) - lo;
  for (auto& x : out.data) x = range > 0 ? static_cast<float>((x - lo) / range) : 0.f;
  return out;
}

Volume zscore(const Volume& v) {
  Volume out = as_float(v);
  for (int64_t c = 0; c < v.channels; ++c) zscore_channel(out.data.data() + c * v.voxels(), v.voxels(), false);
  return out;
}

Volume zscore_nonzero(const Volume& v) {
  Volume out = as_float(v);
  for (int64_t c = 0; c < v.channels; ++c) zscore_channel(out.data.data() + c * v.voxels(), v.voxels(), true);
  return out;
}

Volume ct_clip_scale(const Volume& v, double lo, double hi, double divisor) {
  if (!(lo <= hi) || divisor == 0 || !std::isfinite(divisor)) throw std::invalid_argument("ct_clip_scale: needs lo <= hi and a finite non-zero divisor");
  Volume out = as_float(v);
  for (auto& x : out.data) x = static_cast<float>(std::clamp(static_cast<double>(x), lo, hi) / divisor);
  return out;
}

Volume normalise_mean_std(const Volume& v, const std::vector<double>& mean, const std::vector<double>& std,
                          double divisor) {
  const size_t C = static_cast<size_t>(v.channels);
  if (mean.size() != C || std.size() != C)
    throw std::invalid_argument("normalise_mean_std: the image has " + std::to_string(C) + " channel(s), mean has " +
                                std::to_string(mean.size()) + " and std " + std::to_string(std.size()) + " values");
  if (!(divisor > 0)) throw std::invalid_argument("normalise_mean_std: divisor must be > 0");
  for (double s : std)
    if (!(s > 0)) throw std::invalid_argument("normalise_mean_std: every std must be > 0");
  Volume out = as_float(v);
  const int64_t n = v.voxels();
  for (size_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < n; ++i) {
      float& x = out.data[c * static_cast<size_t>(n) + static_cast<size_t>(i)];
      x = static_cast<float>((x / divisor - mean[c]) / std[c]);
    }
  return out;
}

}  // namespace seg
