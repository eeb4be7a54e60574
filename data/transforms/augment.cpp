// 2-D augmentation (see augment.h).
#include "data/transforms/augment.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <stdexcept>

#include "data/phantoms/phantom_random.h"
#include "data/transforms/crop_pad.h"
#include "data/transforms/filters.h"

namespace seg {

AugmentParams draw_augment(const AugmentConfig& c, uint64_t seed, uint64_t index) {
  PhantomRandom r(seed ^ 0xA0C3E7ull, index);
  AugmentParams p;
  // every draw is consumed whether or not it is used, so one probability never shifts the others' values
  const double u_rot = r.uniform(), angle = r.uniform(-c.max_angle_deg, c.max_angle_deg);
  const double u_sc = r.uniform(), sc = r.uniform(c.min_scale, c.max_scale);
  const double u_sh = r.uniform(), sx = r.uniform(-c.max_shift_px, c.max_shift_px), sy = r.uniform(-c.max_shift_px, c.max_shift_px);
  const double u_m = r.uniform(), u_f = r.uniform();
  const double u_b = r.uniform(), sigma = r.uniform(c.min_sigma, c.max_sigma);
  if (u_rot < c.p_rotate) p.angle_deg = angle;
  if (u_sc < c.p_scale) p.scale = sc;
  if (u_sh < c.p_shift) p.shift_x = sx, p.shift_y = sy;
  p.mirror = u_m < c.p_mirror;
  p.flip = u_f < c.p_flip;
  if (u_b < c.p_blur) p.blur_sigma = sigma;
  const double u_q = r.uniform();  // drawn last, so configurations without quarter turns keep their earlier values
  if (c.quarter_turns) p.quarter_turns = std::min(3, static_cast<int>(u_q * 4.0));
  return p;
}

AugmentConfig no_augmentation() {
  AugmentConfig c;
  c.p_rotate = c.p_scale = c.p_shift = c.p_mirror = c.p_flip = c.p_blur = 0;
  c.max_shift_px = 0;
  c.quarter_turns = false;
  return c;
}

namespace {
// k counter-clockwise quarter turns (as displayed, y down) of every slice of a square volume, exact.
Volume rotate90(const Volume& v, int k) {
  k = ((k % 4) + 4) % 4;
  if (k == 0) return v;
  const int64_t n = v.nx();
  if (v.ny() != n) throw std::invalid_argument("augment_2d: quarter turns need square slices, got " +
                                               std::to_string(v.nx()) + "x" + std::to_string(v.ny()));
  Volume out = v;
  const int64_t P = n * n;
  for (int64_t pl = 0; pl < v.channels * v.nz(); ++pl) {
    const float* in = v.data.data() + pl * P;
    float* o = out.data.data() + pl * P;
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) {
        int64_t sy = y, sx = x;  // source of output (y, x)
        if (k == 1) sy = x, sx = n - 1 - y;
        else if (k == 2) sy = n - 1 - y, sx = n - 1 - x;
        else sy = n - 1 - x, sx = y;
        o[y * n + x] = in[sy * n + sx];
      }
  }
  return out;
}
}  // namespace

Volume warp_2d(const Volume& v, double angle_deg, double scale, double shift_x, double shift_y, bool nearest, float fill) {
  if (!(scale > 0)) throw std::invalid_argument("warp_2d: scale must be > 0");
  Volume out = v;
  const double th = angle_deg * 3.14159265358979323846 / 180.0, c = std::cos(th), s = std::sin(th);
  const int64_t nx = v.nx(), ny = v.ny(), P = nx * ny;
  const double cx = 0.5 * static_cast<double>(nx - 1), cy = 0.5 * static_cast<double>(ny - 1);
#pragma omp parallel for collapse(2)
  for (int64_t pl = 0; pl < v.channels * v.nz(); ++pl)
    for (int64_t y = 0; y < ny; ++y) {
      const float* in = v.data.data() + pl * P;
      float* o = out.data.data() + pl * P;
      for (int64_t x = 0; x < nx; ++x) {
        // inverse map: undo the shift, then rotate by −θ and divide by the scale (forward rotation [[c, s], [−s, c]]
        // turns +x towards −y: counter-clockwise as displayed with y down)
        const double px = static_cast<double>(x) - shift_x - cx, py = static_cast<double>(y) - shift_y - cy;
        const double sx = (c * px - s * py) / scale + cx, sy = (s * px + c * py) / scale + cy;
        float val = fill;
        if (nearest) {
          const int64_t ix = static_cast<int64_t>(std::floor(sx + 0.5)), iy = static_cast<int64_t>(std::floor(sy + 0.5));
          if (ix >= 0 && ix < nx && iy >= 0 && iy < ny) val = in[iy * nx + ix];
        } else if (sx > -1 && sx < static_cast<double>(nx) && sy > -1 && sy < static_cast<double>(ny)) {
          // bilinear; taps outside the slice read `fill` (as a constant-padded image would)
          const int64_t x0 = static_cast<int64_t>(std::floor(sx)), y0 = static_cast<int64_t>(std::floor(sy));
          const double wx = sx - static_cast<double>(x0), wy = sy - static_cast<double>(y0);
          auto at = [&](int64_t xx, int64_t yy) { return xx >= 0 && xx < nx && yy >= 0 && yy < ny ? static_cast<double>(in[yy * nx + xx]) : static_cast<double>(fill); };
          val = static_cast<float>((1 - wy) * ((1 - wx) * at(x0, y0) + wx * at(x0 + 1, y0)) + wy * ((1 - wx) * at(x0, y0 + 1) + wx * at(x0 + 1, y0 + 1)));
        }
        o[y * nx + x] = val;
      }
    }
  return out;
}

std::pair<Volume, Volume> augment_2d(const Volume& image, const Volume& label, const AugmentParams& p, float image_fill) {
  const bool has_label = !label.data.empty();
  if (has_label && label.dims != image.dims) throw std::invalid_argument("augment_2d: image and label dims differ");
  Volume img = image, lab = label;
  const bool geometric = p.angle_deg != 0 || p.scale != 1 || p.shift_x != 0 || p.shift_y != 0;
  if (geometric) {
    img = warp_2d(img, p.angle_deg, p.scale, p.shift_x, p.shift_y, false, image_fill);
    if (has_label) lab = warp_2d(lab, p.angle_deg, p.scale, p.shift_x, p.shift_y, true, 0.f);
  }
  if (p.quarter_turns != 0) {
    img = rotate90(img, p.quarter_turns);
    if (has_label) lab = rotate90(lab, p.quarter_turns);
  }
  // flips keep the grid (augmentation moves content, not the scanner frame)
  if (p.mirror) {
    img.data = flip(img, 0).data;
    if (has_label) lab.data = flip(lab, 0).data;
  }
  if (p.flip) {
    img.data = flip(img, 1).data;
    if (has_label) lab.data = flip(lab, 1).data;
  }
  if (p.blur_sigma > 0) img = gaussian_blur_2d(img, p.blur_sigma);
  return {std::move(img), std::move(lab)};
}

}  // namespace seg
