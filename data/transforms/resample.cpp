// Resize and resampling (see resample.h).
#include "data/transforms/resample.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace seg {

namespace {

// Source position of each output index along one axis, as (i0, i1, weight of i1).
struct Tap {
  int64_t i0, i1;
  double w;
};

std::vector<Tap> torch_taps(int64_t in, int64_t out, Interp interp) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t d = 0; d < out; ++d) {
    if (interp == Interp::Nearest) {
      const int64_t s = std::min(static_cast<int64_t>(std::floor(static_cast<float>(d) * scale)), in - 1);
      t[static_cast<size_t>(d)] = {s, s, 0.0};
    } else {
      const float src = std::max(0.f, (static_cast<float>(d) + 0.5f) * scale - 0.5f);
      const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
      const int64_t i1 = std::min(i0 + 1, in - 1);
      t[static_cast<size_t>(d)] = {i0, i1, static_cast<double>(src - static_cast<float>(i0))};
    }
  }
  return t;
}

std::vector<Tap> spacing_taps(int64_t in, int64_t out, double ratio, Interp interp) {
  std::vector<Tap> t(static_cast<size_t>(out));
  for (int64_t d = 0; d < out; ++d) {
    const double src = std::min(static_cast<double>(d) * ratio, static_cast<double>(in - 1));
    if (interp == Interp::Nearest) {
      const int64_t s = std::min(static_cast<int64_t>(std::floor(src + 0.5)), in - 1);
      t[static_cast<size_t>(d)] = {s, s, 0.0};
    } else {
      const int64_t i0 = static_cast<int64_t>(std::floor(src));
      const int64_t i1 = std::min(i0 + 1, in - 1);
      t[static_cast<size_t>(d)] = {i0, i1, src - static_cast<double>(i0)};
    }
  }
  return t;
}

// Separable resampling with per-axis taps; tx/ty/tz cover the output dims.
Volume apply_taps(const Volume& v, const std::vector<Tap>& tx, const std::vector<Tap>& ty, const std::vector<Tap>& tz) {
  Volume out;
  out.dims = {static_cast<int64_t>(tx.size()), static_cast<int64_t>(ty.size()), static_cast<int64_t>(tz.size())};
  out.channels = v.channels;
  out.datatype = v.datatype;
  out.spacing = v.spacing;
  out.affine = v.affine;
  const int64_t onx = out.dims[0], ony = out.dims[1], onz = out.dims[2], ovox = onx * ony * onz, ivox = v.voxels();
  out.data.assign(static_cast<size_t>(ovox * v.channels), 0.f);
#pragma omp parallel for collapse(2)
  for (int64_t c = 0; c < v.channels; ++c)
    for (int64_t z = 0; z < onz; ++z) {
      const float* in = v.data.data() + c * ivox;
      const Tap& a = tz[static_cast<size_t>(z)];
      for (int64_t y = 0; y < ony; ++y) {
        const Tap& b = ty[static_cast<size_t>(y)];
        for (int64_t x = 0; x < onx; ++x) {
          const Tap& e = tx[static_cast<size_t>(x)];
          auto at = [&](int64_t zz, int64_t yy, int64_t xx) {
            return static_cast<double>(in[xx + v.dims[0] * (yy + v.dims[1] * zz)]);
          };
          auto plane = [&](int64_t zz) {
            const double r0 = (1 - e.w) * at(zz, b.i0, e.i0) + e.w * at(zz, b.i0, e.i1);
            const double r1 = (1 - e.w) * at(zz, b.i1, e.i0) + e.w * at(zz, b.i1, e.i1);
            return (1 - b.w) * r0 + b.w * r1;
          };
          const double val = a.w == 0 ? plane(a.i0) : (1 - a.w) * plane(a.i0) + a.w * plane(a.i1);
          out.data[static_cast<size_t>(c * ovox + x + onx * (y + ony * z))] = static_cast<float>(val);
        }
      }
    }
  return out;
}

void check_volume(const Volume& v, const char* who) {
  if (v.voxels() <= 0 || static_cast<int64_t>(v.data.size()) != v.voxels() * v.channels)
    throw std::invalid_argument(std::string(who) + ": volume data size does not match dims × channels");
}

}  // namespace

Volume resize_2d(const Volume& v, int64_t out_nx, int64_t out_ny, Interp interp) {
  check_volume(v, "resize_2d");
  if (out_nx < 1 || out_ny < 1) throw std::invalid_argument("resize_2d: output size must be >= 1");
  std::vector<Tap> tz(static_cast<size_t>(v.nz()));
  for (int64_t z = 0; z < v.nz(); ++z) tz[static_cast<size_t>(z)] = {z, z, 0.0};
  Volume out = apply_taps(v, torch_taps(v.nx(), out_nx, interp), torch_taps(v.ny(), out_ny, interp), tz);
  // output centre d sits at input position (d + 0.5)·in/out − 0.5 (the align_corners=False grid)
  const double s[2] = {static_cast<double>(v.nx()) / static_cast<double>(out_nx), static_cast<double>(v.ny()) / static_cast<double>(out_ny)};
  for (int a = 0; a < 2; ++a) {
    out.spacing[static_cast<size_t>(a)] = v.spacing[static_cast<size_t>(a)] * s[a];
    for (int r = 0; r < 3; ++r) {
      out.affine[static_cast<size_t>(r)][3] += v.affine[static_cast<size_t>(r)][static_cast<size_t>(a)] * (0.5 * s[a] - 0.5);
      out.affine[static_cast<size_t>(r)][static_cast<size_t>(a)] = v.affine[static_cast<size_t>(r)][static_cast<size_t>(a)] * s[a];
    }
  }
  return out;
}

Volume resample_to_spacing(const Volume& v, const std::array<double, 3>& spacing, Interp interp) {
  check_volume(v, "resample_to_spacing");
  std::vector<Tap> taps[3];
  for (int a = 0; a < 3; ++a) {
    const double old_s = v.spacing[static_cast<size_t>(a)], new_s = spacing[static_cast<size_t>(a)];
    if (!(new_s > 0) || !(old_s > 0)) throw std::invalid_argument("resample_to_spacing: spacings must be > 0");
    const int64_t n = v.dims[static_cast<size_t>(a)];
    const double ratio = new_s / old_s;
    // a tiny tolerance so that e.g. 0.9 → 1.8 over 512 voxels gives 256, not 255, through rounding of the ratio
    const int64_t out = static_cast<int64_t>(std::floor(static_cast<double>(n - 1) / ratio + 1e-9)) + 1;
    taps[a] = spacing_taps(n, out, ratio, interp);
  }
  Volume out = apply_taps(v, taps[0], taps[1], taps[2]);
  for (int a = 0; a < 3; ++a) {
    const double ratio = spacing[static_cast<size_t>(a)] / v.spacing[static_cast<size_t>(a)];
    out.spacing[static_cast<size_t>(a)] = spacing[static_cast<size_t>(a)];
    for (int r = 0; r < 3; ++r) out.affine[static_cast<size_t>(r)][static_cast<size_t>(a)] = v.affine[static_cast<size_t>(r)][static_cast<size_t>(a)] * ratio;
  }
  return out;
}

}  // namespace seg
