// Slice panels of paper 3's figures (see figures.h).
#include "apps/paper3/figures.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>

#include "data/formats/png_io.h"
#include "engine/error.h"

namespace seg {

namespace {
// (row, col) of an axial slice → voxel index; rows run against the in-plane "y" (or z) so the picture is upright.
struct SliceGeom {
  int axis;
  int64_t rows, cols;
  std::array<int64_t, 3> dims;
  int64_t index(int64_t s, int64_t r, int64_t c) const {
    int64_t x = 0, y = 0, z = 0;
    if (axis == 2) x = c, y = r, z = s;
    if (axis == 1) x = c, y = s, z = rows - 1 - r;
    if (axis == 0) x = s, y = c, z = rows - 1 - r;
    return x + dims[0] * (y + dims[1] * z);
  }
};
SliceGeom geom(const Volume& v) {
  const int a = axial_axis(v);
  SliceGeom g{a, 0, 0, v.dims};
  if (a == 2) g.rows = v.ny(), g.cols = v.nx();
  if (a == 1) g.rows = v.nz(), g.cols = v.nx();
  if (a == 0) g.rows = v.nz(), g.cols = v.ny();
  return g;
}
std::array<uint8_t, 3> class_colour(const LabelScheme& s, int k) {
  if (s.classes() == 4) {  // BraTS: NCR/NET red, ED green, ET yellow
    const std::array<uint8_t, 3> c[4] = {{0, 0, 0}, {230, 30, 30}, {40, 200, 40}, {250, 230, 30}};
    return c[k];
  }
  const std::array<uint8_t, 3> c[3] = {{0, 0, 0}, {230, 30, 30}, {40, 200, 40}};  // KiTS: kidney red, tumour green
  return c[std::min(k, 2)];
}
}  // namespace

int64_t busiest_axial_slice(const Volume& labels) {
  const SliceGeom g = geom(labels);
  const int64_t n = labels.dims[static_cast<size_t>(g.axis)];
  int64_t best = n / 2, most = -1;
  for (int64_t s = 0; s < n; ++s) {
    int64_t k = 0;
    for (int64_t r = 0; r < g.rows; ++r)
      for (int64_t c = 0; c < g.cols; ++c) k += labels.data[static_cast<size_t>(g.index(s, r, c))] > 0;
    if (k > most) most = k, best = s;
  }
  return best;
}

RgbImage slice_panels(const Volume& image, int64_t channel, int64_t slice, const std::vector<SlicePanel>& panels,
                      const LabelScheme& scheme) {
  const SliceGeom g = geom(image);
  SEG_CHECK(slice >= 0 && slice < image.dims[static_cast<size_t>(g.axis)], "slice_panels: slice ", slice, " out of range");
  SEG_CHECK(channel >= 0 && channel < image.channels, "slice_panels: channel ", channel, " out of range");
  const int64_t V = image.voxels();
  std::vector<float> grey(static_cast<size_t>(g.rows * g.cols));
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t c = 0; c < g.cols; ++c)
      grey[static_cast<size_t>(r * g.cols + c)] = image.data[static_cast<size_t>(channel * V + g.index(slice, r, c))];
  const auto [lo, hi] = std::minmax_element(grey.begin(), grey.end());
  const float mn = *lo, range = std::max(*hi - *lo, 1e-6f);
  const int up = static_cast<int>(std::max<int64_t>(1, (192 + g.rows - 1) / g.rows));
  const int ph = static_cast<int>(g.rows) * up, pw = static_cast<int>(g.cols) * up, gap = 2;
  RgbImage out;
  out.height = ph;
  out.width = static_cast<int>(panels.size()) * (pw + gap) - gap;
  out.rgb.assign(static_cast<size_t>(out.width * out.height * 3), 255);
  for (size_t p = 0; p < panels.size(); ++p) {
    const SlicePanel& pan = panels[p];
    SEG_CHECK(pan.kind == SlicePanel::Image || (pan.volume && pan.volume->dims == image.dims),
              "slice_panels: panel ", p, " is not on the image's grid");
    for (int64_t r = 0; r < g.rows; ++r)
      for (int64_t c = 0; c < g.cols; ++c) {
        const float v = (grey[static_cast<size_t>(r * g.cols + c)] - mn) / range;
        double rgb[3] = {v * 255.0, v * 255.0, v * 255.0};
        const size_t vi = static_cast<size_t>(g.index(slice, r, c));
        if (pan.kind == SlicePanel::Labels) {
          const int k = static_cast<int>(pan.volume->data[vi]);
          if (k > 0) {
            const auto col = class_colour(scheme, k);
            for (int i = 0; i < 3; ++i) rgb[i] = 0.35 * rgb[i] + 0.65 * col[static_cast<size_t>(i)];
          }
        } else if (pan.kind == SlicePanel::Edges) {
          const double e = std::clamp(static_cast<double>(pan.volume->data[vi]), 0.0, 1.0);
          rgb[0] = (1 - e) * rgb[0] * 0.6 + e * 255;
          rgb[1] = (1 - e) * rgb[1] * 0.6;
          rgb[2] = (1 - e) * rgb[2] * 0.6;
        }
        for (int dy = 0; dy < up; ++dy)
          for (int dx = 0; dx < up; ++dx) {
            const size_t o = static_cast<size_t>(((static_cast<int>(r) * up + dy) * out.width +
                                                  static_cast<int>(p) * (pw + gap) + static_cast<int>(c) * up + dx) * 3);
            for (int i = 0; i < 3; ++i) out.rgb[o + static_cast<size_t>(i)] = static_cast<uint8_t>(std::clamp(rgb[i], 0.0, 255.0));
          }
      }
  }
  return out;
}

void write_panels_png(const std::string& path, const RgbImage& img) {
  const std::string tmp = path + ".tmp.png";
  write_png_rgb(tmp, img.width, img.height, img.rgb);
  std::filesystem::rename(tmp, path);
}

}  // namespace seg
