// Sliding-window inference with a z-ring of weighted sums (see sliding_window.h).
#include "data/pipeline3d/sliding_window.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "data/transforms/crop_pad.h"

namespace seg {

std::string SlidingWindowConfig::describe() const {
  std::ostringstream s;
  s << patch[0] << "×" << patch[1] << "×" << patch[2] << " tiles, overlap " << overlap << ", "
    << (gaussian ? "Gaussian weights (σ = " + std::to_string(sigma_scale).substr(0, 5) + "·patch)" : "uniform weights");
  return s.str();
}

std::vector<int64_t> tile_starts(int64_t size, int64_t patch, double overlap) {
  if (size < 1 || patch < 1) throw std::invalid_argument("tile_starts: sizes must be positive");
  if (!(overlap >= 0 && overlap < 1)) throw std::invalid_argument("sliding window: overlap must be in [0, 1), got " + std::to_string(overlap));
  if (size <= patch) return {-(patch - size) / 2};
  const double step = static_cast<double>(patch) * (1 - overlap);
  const int64_t n = static_cast<int64_t>(std::ceil(static_cast<double>(size - patch) / step - 1e-9)) + 1;
  std::vector<int64_t> s;
  for (int64_t i = 0; i < n; ++i)
    s.push_back(n == 1 ? 0 : static_cast<int64_t>(std::llround(static_cast<double>(i) * static_cast<double>(size - patch) / static_cast<double>(n - 1))));
  return s;
}

std::vector<float> importance_map(const std::array<int64_t, 3>& p, bool gaussian, double sigma_scale) {
  const int64_t V = p[0] * p[1] * p[2];
  std::vector<float> w(static_cast<size_t>(V), 1.f);
  if (!gaussian) return w;
  if (!(sigma_scale > 0)) throw std::invalid_argument("sliding window: sigma_scale must be positive");
  std::array<std::vector<double>, 3> g;
  for (int a = 0; a < 3; ++a) {
    const double c = static_cast<double>(p[a] - 1) / 2.0, s = sigma_scale * static_cast<double>(p[a]);
    for (int64_t i = 0; i < p[a]; ++i) g[a].push_back(std::exp(-0.5 * (static_cast<double>(i) - c) * (static_cast<double>(i) - c) / (s * s)));
  }
  double mx = 0;
  for (int64_t z = 0; z < p[2]; ++z)
    for (int64_t y = 0; y < p[1]; ++y)
      for (int64_t x = 0; x < p[0]; ++x) mx = std::max(mx, g[0][static_cast<size_t>(x)] * g[1][static_cast<size_t>(y)] * g[2][static_cast<size_t>(z)]);
  float mn = 1;
  for (int64_t z = 0; z < p[2]; ++z)
    for (int64_t y = 0; y < p[1]; ++y)
      for (int64_t x = 0; x < p[0]; ++x) {
        const float v = static_cast<float>(g[0][static_cast<size_t>(x)] * g[1][static_cast<size_t>(y)] * g[2][static_cast<size_t>(z)] / mx);
        w[static_cast<size_t>(x + p[0] * (y + p[1] * z))] = v;
        if (v > 0) mn = std::min(mn, v);
      }
  for (float& v : w)
    if (v <= 0) v = mn;
  return w;
}

SlidingWindowStats sliding_window(const Volume& image, int64_t out_channels, const SlidingWindowConfig& cfg,
                                  const PatchPredictor& predict, const SliceConsumer& consume, float pad_value) {
  if (out_channels < 1) throw std::invalid_argument("sliding_window: out_channels must be positive");
  for (int a = 0; a < 3; ++a)
    if (cfg.patch[a] < 1) throw std::invalid_argument("sliding_window: patch sizes must be positive");
  const int64_t nx = image.nx(), ny = image.ny(), nz = image.nz(), plane = nx * ny;
  const std::array<int64_t, 3>& P = cfg.patch;
  // The ring holds patch_z slices, or the whole volume's nz when that is fewer (one row of tiles in z).
  const int64_t PV = P[0] * P[1] * P[2], depth = std::min(P[2], nz);
  const std::vector<int64_t> sx = tile_starts(nx, P[0], cfg.overlap), sy = tile_starts(ny, P[1], cfg.overlap),
                             sz = tile_starts(nz, P[2], cfg.overlap);
  const std::vector<float> w = importance_map(P, cfg.gaussian, cfg.sigma_scale);
  // ring slot of slice z: z mod depth; sums: [slot][channel][plane], weights: [slot][plane]
  std::vector<float> sums(static_cast<size_t>(depth * out_channels * plane), 0.f), wsum(static_cast<size_t>(depth * plane), 0.f);
  std::vector<float> out_slice(static_cast<size_t>(out_channels * plane));
  std::vector<float> pred;
  SlidingWindowStats st;
  st.buffer_floats = static_cast<int64_t>(sums.size() + wsum.size() + w.size() + out_slice.size()) +
                     (image.channels + out_channels) * PV;
  int64_t next_final = 0;  // slices below it are finished
  auto finish_below = [&](int64_t end) {
    for (; next_final < std::min(end, nz); ++next_final) {
      const int64_t slot = next_final % depth;
      float* s = sums.data() + slot * out_channels * plane;
      float* ws = wsum.data() + slot * plane;
      for (int64_t c = 0; c < out_channels; ++c)
        for (int64_t i = 0; i < plane; ++i) out_slice[static_cast<size_t>(c * plane + i)] = s[c * plane + i] / ws[i];
      consume(next_final, out_slice.data());
      std::fill(s, s + out_channels * plane, 0.f);
      std::fill(ws, ws + plane, 0.f);
    }
  };
  for (size_t iz = 0; iz < sz.size(); ++iz) {
    for (int64_t y0 : sy)
      for (int64_t x0 : sx) {
        const Volume in = crop_or_pad(image, {x0, y0, sz[iz]}, P, pad_value);
        pred.clear();
        predict(in.data, P, pred);
        if (static_cast<int64_t>(pred.size()) != out_channels * PV)
          throw std::runtime_error("sliding_window: the predictor returned " + std::to_string(pred.size()) +
                                   " values, expected " + std::to_string(out_channels) + " × " + std::to_string(PV));
        ++st.tiles;
#pragma omp parallel for schedule(static) if (PV * out_channels >= 65536)
        for (int64_t z = 0; z < P[2]; ++z) {
          const int64_t gz = sz[iz] + z;
          if (gz < 0 || gz >= nz) continue;
          const int64_t slot = gz % depth;
          for (int64_t y = 0; y < P[1]; ++y) {
            const int64_t gy = y0 + y;
            if (gy < 0 || gy >= ny) continue;
            for (int64_t x = 0; x < P[0]; ++x) {
              const int64_t gx = x0 + x;
              if (gx < 0 || gx >= nx) continue;
              const int64_t pi = x + P[0] * (y + P[1] * z), gi = gx + nx * gy;
              const float wi = w[static_cast<size_t>(pi)];
              wsum[static_cast<size_t>(slot * plane + gi)] += wi;
              for (int64_t c = 0; c < out_channels; ++c)
                sums[static_cast<size_t>((slot * out_channels + c) * plane + gi)] += wi * pred[static_cast<size_t>(c * PV + pi)];
            }
          }
        }
      }
    finish_below(iz + 1 < sz.size() ? sz[iz + 1] : nz);
  }
  return st;
}

SlidingWindowLabels sliding_window_argmax(const Volume& image, int64_t classes, int64_t out_channels,
                                          const SlidingWindowConfig& cfg, const PatchPredictor& predict,
                                          float pad_value, const SliceConsumer& also) {
  if (classes < 1 || classes > out_channels)
    throw std::invalid_argument("sliding_window_argmax: classes must be in 1..out_channels");
  SlidingWindowLabels r;
  r.labels = Volume::make(image.dims, image.spacing);
  r.labels.affine = image.affine;
  r.labels.datatype = "uint8";
  const int64_t plane = image.nx() * image.ny();
  r.stats = sliding_window(
      image, out_channels, cfg, predict,
      [&](int64_t z, const float* planes) {
        for (int64_t i = 0; i < plane; ++i) {
          int64_t best = 0;
          for (int64_t c = 1; c < classes; ++c)
            if (planes[c * plane + i] > planes[best * plane + i]) best = c;
          r.labels.data[static_cast<size_t>(z * plane + i)] = static_cast<float>(best);
        }
        if (also) also(z, planes);
      },
      pad_value);
  return r;
}

}  // namespace seg
