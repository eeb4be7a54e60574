// Random 3-D deformation of a scan and its labels (see deform.h).
#include "data/transforms/deform.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/phantoms/phantom_random.h"

namespace seg {

DeformParams draw_deform(const DeformConfig& cfg, uint64_t seed, uint64_t index) {
  PhantomRandom r(seed ^ 0xDEF0A11ull, index);
  DeformParams p;
  p.scale_x = r.uniform(1 - cfg.scale, 1 + cfg.scale);
  p.scale_y = r.uniform(1 - cfg.scale, 1 + cfg.scale);
  p.scale_z = r.uniform(1 - cfg.scale_z, 1 + cfg.scale_z);
  p.angle_deg = r.uniform(-cfg.rotate_deg, cfg.rotate_deg);
  for (double& t : p.shift_mm) t = r.uniform(-cfg.shift_mm, cfg.shift_mm);
  p.intensity_a = r.uniform(1 - cfg.intensity_scale, 1 + cfg.intensity_scale);
  p.intensity_b = r.uniform(-cfg.intensity_shift, cfg.intensity_shift);
  p.stream = splitmix64(seed * 0x9E3779B97F4A7C15ull + index + 1);
  return p;
}

namespace {

// Smooth displacement field: control points every `grid` mm over [−L/2, L/2] per axis (one extra ring outside).
class ElasticField {
 public:
  ElasticField(const std::array<double, 3>& extent, double grid, double sigma, uint64_t stream) : grid_(grid) {
    for (int a = 0; a < 3; ++a) {
      n_[a] = static_cast<int64_t>(std::ceil(extent[a] / grid)) + 3;
      origin_[a] = -0.5 * static_cast<double>(n_[a] - 1) * grid;
    }
    d_.resize(static_cast<size_t>(3 * n_[0] * n_[1] * n_[2]));
    for (size_t i = 0; i < d_.size(); ++i) d_[i] = sigma > 0 ? sigma * phantom_normal(stream, i) : 0.0;
  }

  // Displacement (mm) at q (mm about the centre), added to out.
  void add(const double q[3], double out[3]) const {
    int64_t i0[3];
    double w[3];
    for (int a = 0; a < 3; ++a) {
      const double u = std::clamp((q[a] - origin_[a]) / grid_, 0.0, static_cast<double>(n_[a] - 1) - 1e-9);
      i0[a] = static_cast<int64_t>(u);
      const double t = u - static_cast<double>(i0[a]);
      w[a] = t * t * (3 - 2 * t);  // smoothstep: C¹ across control points
    }
    for (int c = 0; c < 8; ++c) {
      const int dx = c & 1, dy = (c >> 1) & 1, dz = (c >> 2) & 1;
      const double wt = (dx ? w[0] : 1 - w[0]) * (dy ? w[1] : 1 - w[1]) * (dz ? w[2] : 1 - w[2]);
      const size_t k = static_cast<size_t>(3 * ((i0[0] + dx) + n_[0] * ((i0[1] + dy) + n_[1] * (i0[2] + dz))));
      for (int a = 0; a < 3; ++a) out[a] += wt * d_[k + static_cast<size_t>(a)];
    }
  }

 private:
  double grid_;
  int64_t n_[3];
  double origin_[3];
  std::vector<double> d_;
};

bool integer_datatype(const std::string& dt) { return !dt.empty() && (dt[0] == 'i' || dt[0] == 'u'); }

std::pair<double, double> datatype_range(const std::string& dt) {
  if (dt == "uint8") return {0, 255};
  if (dt == "int8") return {-128, 127};
  if (dt == "uint16") return {0, 65535};
  if (dt == "int16") return {-32768, 32767};
  return {-2147483648.0, 2147483647.0};
}

}  // namespace

std::pair<Volume, Volume> deform_case(const Volume& image, const Volume& labels, const DeformConfig& cfg,
                                      const DeformParams& p, std::array<double, 3> spacing) {
  if (image.dims != labels.dims)
    throw std::invalid_argument("deform_case: image and labels have different dimensions");
  if (image.channels != 1 || labels.channels != 1) throw std::invalid_argument("deform_case: expects one-channel volumes");
  if (!(cfg.elastic_grid_mm > 0)) throw std::invalid_argument("deform_case: elastic_grid_mm must be > 0");
  const std::array<double, 3> src_sp = image.spacing;
  std::array<double, 3> extent{};
  std::array<int64_t, 3> dims{};
  for (int a = 0; a < 3; ++a) {
    if (!(spacing[a] > 0)) spacing[a] = src_sp[a];
    extent[a] = static_cast<double>(image.dims[a]) * src_sp[a];
    dims[a] = std::max<int64_t>(1, std::llround(extent[a] / spacing[a]));
  }
  Volume img = Volume::make(dims, spacing), lab = Volume::make(dims, spacing);
  img.datatype = image.datatype;
  lab.datatype = labels.datatype;
  // same orientation as the source, first voxel centre where the output grid puts it
  for (int r = 0; r < 3; ++r) {
    double origin = image.affine[r][3];
    for (int c = 0; c < 3; ++c) {
      const double dir = image.affine[r][c] / src_sp[c];
      img.affine[r][c] = lab.affine[r][c] = dir * spacing[c];
      origin += dir * src_sp[c] * (0.5 * spacing[c] / src_sp[c] - 0.5);
    }
    img.affine[r][3] = lab.affine[r][3] = origin;
  }

  const ElasticField field(extent, cfg.elastic_grid_mm, cfg.elastic_mm, p.stream);
  const double th = p.angle_deg * 3.14159265358979323846 / 180.0, c = std::cos(th), s = std::sin(th);
  const auto [lo, hi] = datatype_range(image.datatype);
  const bool round_img = integer_datatype(image.datatype);
  const int64_t nx = image.nx(), ny = image.ny(), nz = image.nz();
  auto src_index = [&](int a, double mm) {  // continuous voxel index of a position (mm about the centre)
    return std::clamp((mm + 0.5 * extent[a]) / src_sp[a] - 0.5, 0.0, static_cast<double>(image.dims[a] - 1));
  };
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < dims[2]; ++k)
    for (int64_t j = 0; j < dims[1]; ++j)
      for (int64_t i = 0; i < dims[0]; ++i) {
        const int64_t o = i + dims[0] * (j + dims[1] * k);
        const double q[3] = {(static_cast<double>(i) + 0.5) * spacing[0] - 0.5 * extent[0],
                             (static_cast<double>(j) + 0.5) * spacing[1] - 0.5 * extent[1],
                             (static_cast<double>(k) + 0.5) * spacing[2] - 0.5 * extent[2]};
        // inverse of q = R·S·p + t, then the elastic displacement
        const double ux = q[0] - p.shift_mm[0], uy = q[1] - p.shift_mm[1], uz = q[2] - p.shift_mm[2];
        double src[3] = {(c * ux + s * uy) / p.scale_x, (-s * ux + c * uy) / p.scale_y, uz / p.scale_z};
        field.add(q, src);
        const double fx = src_index(0, src[0]), fy = src_index(1, src[1]), fz = src_index(2, src[2]);
        const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy), z0 = static_cast<int64_t>(fz);
        const int64_t x1 = std::min(x0 + 1, nx - 1), y1 = std::min(y0 + 1, ny - 1), z1 = std::min(z0 + 1, nz - 1);
        const double wx = fx - static_cast<double>(x0), wy = fy - static_cast<double>(y0), wz = fz - static_cast<double>(z0);
        auto at = [&](int64_t x, int64_t y, int64_t z) { return static_cast<double>(image.at(x, y, z)); };
        const double v = (1 - wz) * ((1 - wy) * ((1 - wx) * at(x0, y0, z0) + wx * at(x1, y0, z0)) +
                                     wy * ((1 - wx) * at(x0, y1, z0) + wx * at(x1, y1, z0))) +
                         wz * ((1 - wy) * ((1 - wx) * at(x0, y0, z1) + wx * at(x1, y0, z1)) +
                               wy * ((1 - wx) * at(x0, y1, z1) + wx * at(x1, y1, z1)));
        double out = p.intensity_a * v + p.intensity_b +
                     (cfg.noise_sd > 0 ? cfg.noise_sd * phantom_normal(p.stream ^ 0x5A5A5A5Aull, static_cast<uint64_t>(o)) : 0.0);
        if (round_img) out = std::clamp(std::round(out), lo, hi);
        img.data[static_cast<size_t>(o)] = static_cast<float>(out);
        lab.data[static_cast<size_t>(o)] =
            labels.at(std::llround(fx) < nx ? std::llround(fx) : nx - 1, std::llround(fy) < ny ? std::llround(fy) : ny - 1,
                      std::llround(fz) < nz ? std::llround(fz) : nz - 1);
      }
  return {std::move(img), std::move(lab)};
}

}  // namespace seg
