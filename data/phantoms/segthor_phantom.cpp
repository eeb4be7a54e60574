// SegTHOR-like phantom (see segthor_phantom.h). Each voxel's centre is mapped into the patient's frame (rotation,
// shift, smooth deformation) and classified by the anatomy below, drawn in order so later structures win.
#include "data/phantoms/segthor_phantom.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "data/formats/nifti.h"
#include "data/phantoms/phantom_random.h"

namespace seg {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Patient {
  double scale, rot, sx, sy;                       // global size, in-plane rotation (rad), shift (mm)
  double body_a, body_b, fat;                      // body semi-axes and subcutaneous fat (mm)
  double lung_a, lung_b, lung_x, lung_z0, lung_z1; // lungs: semi-axes, lateral offset, z extent
  double hx, hy, hz, ha, hb, hc, htilt, hcut;      // heart centre, semi-axes, tilt, cut fraction
  double hcos, hsin;                               // cos/sin of htilt (hoisted out of the voxel loop)
  double wall, blood_hu, myo_hu;                   // myocardium thickness, contrast
  double aorta_r, asc_x, asc_y, desc_x, desc_y, arch_z;
  double trachea_r, trachea_x, trachea_y, carina_z;
  double eso_x, eso_y, eso_ra, eso_rb;
  double def_amp[3], def_k[3][3], def_ph[3];       // smooth deformation: one plane wave per axis
  double fov_xy, fov_z;
};

Patient draw_patient(uint64_t seed, int patient, const SegthorPhantomOptions& o) {
  PhantomRandom r(seed, static_cast<uint64_t>(patient));
  Patient p;
  p.scale = r.uniform(0.9, 1.1);
  p.rot = r.uniform(-6, 6) * kPi / 180;
  p.sx = r.uniform(-10, 10);
  p.sy = r.uniform(-8, 8);
  p.body_a = 165 * p.scale * r.uniform(0.94, 1.06);
  p.body_b = 112 * p.scale * r.uniform(0.94, 1.06);
  p.fat = r.uniform(6, 16);
  p.fov_xy = o.fov_xy > 0 ? o.fov_xy : 512 * r.uniform(0.9, 1.05);
  if (o.spacing_xy > 0) p.fov_xy = o.spacing_xy * static_cast<double>(o.nx);
  p.fov_z = o.fov_z > 0 ? o.fov_z : r.uniform(300, 360);
  p.lung_a = 58 * p.scale;
  p.lung_b = 78 * p.scale;
  p.lung_x = 72 * p.scale;
  p.lung_z0 = -0.42 * p.fov_z;
  p.lung_z1 = 0.46 * p.fov_z;
  p.hx = r.uniform(10, 26);
  p.hy = r.uniform(-28, -12);
  p.hz = -0.12 * p.fov_z + r.uniform(-12, 12);
  p.ha = 50 * p.scale * r.uniform(0.9, 1.1);
  p.hb = 42 * p.scale * r.uniform(0.9, 1.1);
  p.hc = 75 * p.scale * r.uniform(0.9, 1.1);
  p.htilt = r.uniform(15, 40) * kPi / 180;
  p.hcos = std::cos(p.htilt);
  p.hsin = std::sin(p.htilt);
  p.hcut = 0.7;  // flat caps at base and apex: every heart slice has a sizeable cross-section
  p.wall = r.uniform(7, 11);
  p.blood_hu = r.uniform(90, 200);
  p.myo_hu = r.uniform(45, 75);
  p.aorta_r = 13 * p.scale * r.uniform(0.9, 1.15);
  p.asc_x = p.hx - 8;
  p.asc_y = p.hy + 6;
  p.desc_x = -24 * p.scale;
  p.desc_y = 62 * p.scale;
  p.arch_z = p.hz + p.hcut * p.hc + r.uniform(28, 40);
  p.trachea_r = 9 * p.scale;
  p.trachea_x = r.uniform(-4, 4);
  p.trachea_y = 28 * p.scale;
  p.carina_z = p.arch_z - 12;
  p.eso_x = 10 * p.scale;
  p.eso_y = 52 * p.scale;
  p.eso_ra = 8;
  p.eso_rb = 5;
  for (int a = 0; a < 3; ++a) {
    p.def_amp[a] = a == 2 ? 0.0 : r.uniform(2, 5);  // in-plane only: keeps the heart's caps flat slices
    for (int b = 0; b < 3; ++b) p.def_k[a][b] = r.uniform(-1, 1) * 2 * kPi / 160;
    p.def_ph[a] = r.uniform(0, 2 * kPi);
  }
  return p;
}

// sqrt(a²+b²): glibc's hypot guards against overflow that millimetre coordinates cannot reach, at several times the cost.
inline double norm2(double a, double b) { return std::sqrt(a * a + b * b); }

// Distance from point q to the segment [a, b] (3-D).
double seg_dist(const double q[3], const double a[3], const double b[3]) {
  double ab[3], aq[3], t = 0, l2 = 0;
  for (int i = 0; i < 3; ++i) {
    ab[i] = b[i] - a[i];
    aq[i] = q[i] - a[i];
    t += ab[i] * aq[i];
    l2 += ab[i] * ab[i];
  }
  t = l2 > 0 ? std::clamp(t / l2, 0.0, 1.0) : 0.0;
  double d = 0;
  for (int i = 0; i < 3; ++i) d += (aq[i] - t * ab[i]) * (aq[i] - t * ab[i]);
  return std::sqrt(d);
}

// HU and label of the point (x, y, z) in the patient's frame.
void classify(const Patient& p, double x, double y, double z, double& hu, int& label) {
  label = 0;
  const double be = (x / p.body_a) * (x / p.body_a) + (y / p.body_b) * (y / p.body_b);
  if (be > 1) {
    hu = -1000;
    return;
  }
  const double inner = ((x / (p.body_a - p.fat)) * (x / (p.body_a - p.fat)) + (y / (p.body_b - p.fat)) * (y / (p.body_b - p.fat)));
  // subcutaneous fat, a muscular chest wall, and mediastinal fat inside it (as on real chest CT, where the heart and
  // vessels sit in fat rather than in uniform soft tissue)
  const double wall = ((x / (p.body_a - p.fat - 22)) * (x / (p.body_a - p.fat - 22)) +
                       (y / (p.body_b - p.fat - 18)) * (y / (p.body_b - p.fat - 18)));
  hu = inner > 1 ? -100 : (wall > 1 ? 45 : -85);
  if (std::hypot(x, y - (p.body_b - 30)) < 48) hu = 50;  // paraspinal muscles around the spine
  // ribs: a bony ring just inside the fat, in bands along z
  if (inner <= 1 && inner > 0.80 && std::sin(z * 2 * kPi / 26.0) > 0.55 && y > -p.body_b * 0.8) hu = 650;
  // lungs, tapering towards the apex and the diaphragm
  if (z > p.lung_z0 && z < p.lung_z1) {
    const double t = (z - p.lung_z0) / (p.lung_z1 - p.lung_z0);
    const double f = std::sqrt(std::max(0.0, 1 - (2 * t - 1) * (2 * t - 1) * (2 * t - 1) * (2 * t - 1))) * (0.75 + 0.25 * t);
    for (int side = -1; side <= 1; side += 2) {
      const double lx = (x - side * p.lung_x) / (p.lung_a * f + 1e-9), ly = (y - 5) / (p.lung_b * f + 1e-9);
      if (lx * lx + ly * ly < 1) {
        const double vessels = std::sin(x * 0.21 + z * 0.05) * std::sin(y * 0.17 - z * 0.07) * std::sin(z * 0.13 + x * 0.03);
        hu = -860 + (vessels > 0.6 ? 700 * (vessels - 0.6) : 25 * vessels);
      }
    }
  }
  // spine: vertebral body with cortex, spinal canal
  {
    const double vy = p.body_b - 30, dv = norm2(x, y - vy);
    if (dv < 19) hu = dv > 15 ? 900 : 380;
    if (norm2(x, y - (vy + 24)) < 8) hu = 30;
    else if (norm2(x, y - (vy + 24)) < 12) hu = 800;
  }
  // heart: tilted ellipsoid cut at base and apex; pericardial fat; myocardial wall; chambers; septum
  {
    const double dx = x - p.hx, dy = y - p.hy, dz = z - p.hz;
    const double u = p.hcos * dx + p.hsin * dy, v = -p.hsin * dx + p.hcos * dy;
    if (std::fabs(dz) <= p.hcut * p.hc) {
      const double e = (u / p.ha) * (u / p.ha) + (v / p.hb) * (v / p.hb) + (dz / p.hc) * (dz / p.hc);
      const double e_fat = (u / (p.ha + 4)) * (u / (p.ha + 4)) + (v / (p.hb + 4)) * (v / (p.hb + 4)) + (dz / (p.hc + 4)) * (dz / (p.hc + 4));
      if (e_fat <= 1 && e > 1) hu = -70;
      if (e <= 1) {
        label = 2;
        const double ai = p.ha - p.wall, bi = p.hb - p.wall, ci = p.hc - p.wall;
        const double ei = (u / ai) * (u / ai) + (v / bi) * (v / bi) + (dz / ci) * (dz / ci);
        const bool septum = std::fabs(u - 0.15 * p.ha + 0.2 * v) < 4.5;
        hu = (ei <= 1 && !septum) ? p.blood_hu : p.myo_hu;
      }
    }
  }
  // aorta: ascending from the heart's base, arch, descending beside the spine. The two vertical segments are at
  // least their in-plane distance away and the horizontal arch at least |z - arch_z|: a cheap exact rejection.
  const double r2 = p.aorta_r * p.aorta_r;
  if ((x - p.asc_x) * (x - p.asc_x) + (y - p.asc_y) * (y - p.asc_y) < r2 ||
      (x - p.desc_x) * (x - p.desc_x) + (y - p.desc_y) * (y - p.desc_y) < r2 || std::fabs(z - p.arch_z) < p.aorta_r) {
    const double q[3] = {x, y, z};
    const double base_z = p.hz + 0.3 * p.hc;
    const double a0[3] = {p.asc_x, p.asc_y, base_z}, a1[3] = {p.asc_x, p.asc_y, p.arch_z};
    const double d0[3] = {p.desc_x, p.desc_y, p.arch_z}, d1[3] = {p.desc_x, p.desc_y, -1e4};
    const double d = std::min({seg_dist(q, a0, a1), seg_dist(q, a1, d0), seg_dist(q, d0, d1)});
    if (d < p.aorta_r && (label != 2 || z > p.hz + p.hcut * p.hc - 6)) {
      label = 4;
      hu = p.blood_hu + 10;
    }
  }
  // trachea (air in a wall) down to the carina, then the main bronchi (air, unlabelled)
  {
    if (z >= p.carina_z) {
      const double d = norm2(x - p.trachea_x, y - p.trachea_y);
      if (d < p.trachea_r + 2) {
        label = 3;
        hu = d < p.trachea_r ? -1000 : 50;
      }
    } else if (z > p.carina_z - 35) {
      const double depth = p.carina_z - z;
      for (int side = -1; side <= 1; side += 2)
        if (norm2(x - (p.trachea_x + side * 0.7 * depth), y - p.trachea_y) < 6 && label == 0) hu = -1000;
    }
  }
  // esophagus: a flattened muscular tube behind the trachea and the heart, sometimes with air
  {
    const double ex = (x - p.eso_x) / p.eso_ra, ey = (y - p.eso_y) / p.eso_rb;
    if (ex * ex + ey * ey < 1 && z > p.lung_z0 - 20 && label != 4) {
      label = 1;
      hu = (ex * ex + ey * ey < 0.08 && std::sin(z * 0.09) > 0.7) ? -600 : 35;
    }
  }
}

}  // namespace

SegthorPhantomOptions segthor_phantom_options_for_size(int64_t S) {
  SegthorPhantomOptions o;
  o.nx = o.ny = std::min<int64_t>(512, 2 * S);
  return o;
}

std::pair<Volume, Volume> make_segthor_patient(uint64_t seed, int patient, const SegthorPhantomOptions& o) {
  const Patient p = draw_patient(seed, patient, o);
  const double sxy = p.fov_xy / static_cast<double>(o.nx);
  const int64_t nz = o.nz > 0 ? o.nz : static_cast<int64_t>(std::lround(p.fov_z / o.spacing_z));
  Volume ct = Volume::make({o.nx, o.ny, nz}, {sxy, p.fov_xy / static_cast<double>(o.ny), o.spacing_z});
  Volume gt = Volume::make({o.nx, o.ny, nz}, ct.spacing);
  ct.datatype = "int16";
  gt.datatype = "uint8";
  for (auto* v : {&ct, &gt}) {  // centre the grid on the origin, as scanners centre the patient
    v->affine[0][3] = -0.5 * p.fov_xy;
    v->affine[1][3] = -0.5 * p.fov_xy;
    v->affine[2][3] = -0.5 * static_cast<double>(nz) * o.spacing_z;
  }
  const double c = std::cos(p.rot), s = std::sin(p.rot);
  const uint64_t noise_stream = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(patient) * 0xD1B54A32D192ED03ull;
  // Speed (full-res patient < 2 s on one core): ~3/4 of the grid is air around the body. A point whose undeformed
  // position lies outside the body ellipse grown by M cannot be deformed into the body, since the deformation moves it
  // by at most m = |def_amp|: ||q+u||_E' <= a/(a+M) + m/(b+M) <= 1 when M(b+M) >= m(a+M), E' = body grown by M.
  const double m = std::hypot(p.def_amp[0], p.def_amp[1]) + std::fabs(p.def_amp[2]);
  const double amax = std::max(p.body_a, p.body_b), bmin = std::min(p.body_a, p.body_b);
  const double M = 0.5 * (-(bmin - m) + std::sqrt((bmin - m) * (bmin - m) + 4 * m * amax)) + 1.0;
  const double oa = p.body_a + M, ob = p.body_b + M;
  const double sy = ct.spacing[1];
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < nz; ++k) {
    const double wz = (static_cast<double>(k) + 0.5 - 0.5 * static_cast<double>(nz)) * o.spacing_z;
    std::vector<double> hu_row(static_cast<size_t>(o.nx));
    std::vector<int> lab_row(static_cast<size_t>(o.nx));
    for (int64_t j = 0; j < o.ny; ++j) {
      const double wy = (static_cast<double>(j) + 0.5) * sy - 0.5 * p.fov_xy;
      // the patient-frame point is affine in i along a row: x = x0 + i·dx, y = y0 + i·dy
      const double wx0 = 0.5 * sxy - 0.5 * p.fov_xy;
      const double x0 = c * (wx0 - p.sx) + s * (wy - p.sy), y0 = -s * (wx0 - p.sx) + c * (wy - p.sy);
      const double dx = c * sxy, dy = -s * sxy;
      for (int64_t i = 0; i < o.nx; ++i) {
        const double x = x0 + dx * static_cast<double>(i), y = y0 + dy * static_cast<double>(i);
        if ((x / oa) * (x / oa) + (y / ob) * (y / ob) > 1) {
          hu_row[static_cast<size_t>(i)] = -1000;
          lab_row[static_cast<size_t>(i)] = 0;
          continue;
        }
        const double q[3] = {x, y, wz};
        double d[3] = {0, 0, 0};
        for (int a = 0; a < 3; ++a)
          if (p.def_amp[a] != 0)
            d[a] = p.def_amp[a] * std::sin(p.def_k[a][0] * q[0] + p.def_k[a][1] * q[1] + p.def_k[a][2] * q[2] + p.def_ph[a]);
        classify(p, x + d[0], y + d[1], wz + d[2], hu_row[static_cast<size_t>(i)], lab_row[static_cast<size_t>(i)]);
      }
      const int64_t row = o.nx * (j + o.ny * k);
      // noise: one Box–Muller pair per two voxels of the flat index (half the hashing and logs)
      for (int64_t i = 0; i < o.nx; ++i) {
        const int64_t idx = row + i;
        double hu = hu_row[static_cast<size_t>(i)];
        if (o.noise_hu > 0) {
          const auto [n0, n1] = phantom_normal_pair(noise_stream, static_cast<uint64_t>(idx >> 1));
          if ((idx & 1) == 0 && i + 1 < o.nx) {
            ct.data[static_cast<size_t>(idx + 1)] = static_cast<float>(
                std::clamp(std::round(hu_row[static_cast<size_t>(i + 1)] + o.noise_hu * n1), -1024.0, 3071.0));
            gt.data[static_cast<size_t>(idx + 1)] = static_cast<float>(lab_row[static_cast<size_t>(i + 1)]);
            hu += o.noise_hu * n0;
            ct.data[static_cast<size_t>(idx)] = static_cast<float>(std::clamp(std::round(hu), -1024.0, 3071.0));
            gt.data[static_cast<size_t>(idx)] = static_cast<float>(lab_row[static_cast<size_t>(i)]);
            ++i;
            continue;
          }
          hu += o.noise_hu * ((idx & 1) ? n1 : n0);
        }
        ct.data[static_cast<size_t>(idx)] = static_cast<float>(std::clamp(std::round(hu), -1024.0, 3071.0));
        gt.data[static_cast<size_t>(idx)] = static_cast<float>(lab_row[static_cast<size_t>(i)]);
      }
    }
  }
  return {std::move(ct), std::move(gt)};
}

void write_segthor_phantom(const std::string& dir, int n_patients, uint64_t seed, const SegthorPhantomOptions& opt) {
  if (n_patients < 1 || n_patients > 99) throw std::invalid_argument("write_segthor_phantom: 1..99 patients (Patient_XX)");
  for (int p = 0; p < n_patients; ++p) {
    char id[32];
    std::snprintf(id, sizeof id, "Patient_%02d", p + 1);
    const std::filesystem::path folder = std::filesystem::path(dir) / "train" / id;
    std::filesystem::create_directories(folder);
    const auto [ct, gt] = make_segthor_patient(seed, p, opt);
    write_nifti((folder / (std::string(id) + ".nii.gz")).string(), ct, "int16");
    write_nifti((folder / "GT.nii.gz").string(), gt, "uint8");
  }
}

}  // namespace seg
