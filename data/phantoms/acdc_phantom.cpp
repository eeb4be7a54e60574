// ACDC-like phantom (see acdc_phantom.h). Each voxel centre is classified in the patient's frame (LV-centred,
// rotated so the RV lies along +u) after a smooth in-plane deformation.
#include "data/phantoms/acdc_phantom.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "data/formats/nifti.h"
#include "data/phantoms/phantom_shapes.h"

namespace seg {

namespace {

constexpr double kPi = 3.14159265358979323846;
const char* const kGroups[5] = {"NOR", "MINF", "DCM", "HCM", "RV"};

struct Heart {
  double sxy, sz, fov;
  int64_t native_n, nz;
  double cx, cy, rot;                // LV centre offset from the image centre (mm), RV direction (rad)
  double r_endo, wall, contraction;  // ED cavity radius at the base, ED wall thickness, ES radius fraction
  double rv_scale, rv_contraction;
  double blood, myo, tissue, fat, lung;
  double bias_amp, def_amp;
  int apex_pad;                      // slices past the apex (no labels)
};

Heart draw_heart(uint64_t seed, int patient) {
  PhantomRandom r(seed ^ 0xACDCull, static_cast<uint64_t>(patient));
  Heart h;
  const int group = static_cast<int>(r.uniform() * 5) % 5;  // first draw: acdc_patient_info reads the same one
  h.sxy = r.uniform(1.37, 1.68);
  h.sz = r.uniform() < 0.7 ? 10.0 : r.uniform(5, 8);
  h.native_n = static_cast<int64_t>(std::lround(r.uniform(216, 256)));
  h.fov = h.sxy * static_cast<double>(h.native_n);
  h.nz = static_cast<int64_t>(std::lround(r.uniform(8, 12)));
  h.cx = r.uniform(-15, 15);
  h.cy = r.uniform(-15, 10);
  h.rot = (200 + r.uniform(-20, 20)) * kPi / 180;  // RV towards the image's left and slightly up
  h.r_endo = r.uniform(21, 26);
  h.wall = r.uniform(7, 9.5);
  h.contraction = r.uniform(0.62, 0.72);
  h.rv_scale = r.uniform(0.9, 1.1);
  h.rv_contraction = r.uniform(0.65, 0.8);
  switch (group) {
    case 1: h.contraction = r.uniform(0.8, 0.9); break;                              // MINF: poor contraction
    case 2: h.r_endo *= 1.3, h.wall *= 0.8, h.contraction = r.uniform(0.82, 0.92); break;  // DCM: dilated, thin
    case 3: h.r_endo *= 0.85, h.wall *= 1.6, h.contraction = r.uniform(0.45, 0.6); break;  // HCM: thick wall
    case 4: h.rv_scale *= 1.4, h.rv_contraction = r.uniform(0.85, 0.95); break;        // RV abnormality
    default: break;
  }
  h.blood = r.uniform(260, 340);
  h.myo = r.uniform(70, 100);
  h.tissue = r.uniform(110, 150);
  h.fat = r.uniform(230, 290);
  h.lung = r.uniform(10, 25);
  h.bias_amp = r.uniform(0.1, 0.25);
  h.def_amp = r.uniform(1.5, 3);
  h.apex_pad = r.uniform() < 0.5 ? 1 : 0;
  return h;
}

// Label and intensity at in-plane point (u, v) mm in the LV frame on a slice at fraction t (0 base, 1 apex).
void classify(const Heart& h, bool es, double t, double u, double v, double body_x, double body_y, double& val, int& label) {
  label = 0;
  // thorax: fat rim, soft tissue, lungs on both sides behind the heart
  const double be = (body_x / 170) * (body_x / 170) + (body_y / 125) * (body_y / 125);
  if (be > 1) {
    val = 0;
    return;
  }
  val = be > 0.82 ? h.fat : h.tissue;
  for (int side = -1; side <= 1; side += 2) {
    const double lx = (body_x - side * 85) / 60, ly = (body_y + 10) / 80;
    if (lx * lx + ly * ly < 1) val = h.lung;
  }
  if (t > 1.0) return;  // past the apex
  const double taper = std::sqrt(std::max(0.0, 1 - std::pow(t * 0.92, 2.2)));
  double r_endo = h.r_endo * (es ? h.contraction : 1.0) * taper;
  // ACDC's LV cavity spans [97.9, 1722] px on 256² slices (paper 1's size bounds, from the real ground truth): a dilated
  // cavity is capped below that, and towards the apex a cavity under ~130 px closes into the myocardial cap (margins
  // leave room for the shape deformation and the resampling)
  const double px256 = h.fov / 256.0;
  r_endo = std::min(r_endo, std::sqrt(1450.0 / kPi) * px256);
  if (r_endo < std::sqrt(130.0 / kPi) * px256) r_endo = 0;
  const double wall = h.wall * (es ? 1.0 / std::sqrt(h.contraction) : 1.0) * (0.85 + 0.15 * taper);
  const double r_epi = r_endo + wall;
  const double rr = std::hypot(u, v);
  // epicardial fat around the heart
  if (rr < r_epi + 3) val = h.fat * 0.9;
  // RV crescent: an ellipse centred beside the LV along +u, minus the LV and a 3 mm RV free wall / septum gap
  if (t < 0.78) {
    const double rs = h.rv_scale * (es ? h.rv_contraction : 1.0) * std::sqrt(std::max(0.0, 1 - std::pow(t / 0.78, 2)));
    const double cu = r_epi * 0.75, a = (r_epi * 0.95 + 12) * rs, b = (r_epi * 1.45) * std::max(rs, 0.35);
    const double e = ((u - cu) / std::max(a, 1e-6)) * ((u - cu) / std::max(a, 1e-6)) + (v / b) * (v / b);
    if (e < 1 && rr > r_epi + 2.5 && u > 0) {
      label = 1;
      val = h.blood * 0.95;
    } else if (e < 1.25 && rr > r_epi && u > 0 && a > 3) {
      val = h.myo * 1.1;  // RV free wall: tissue, not labelled (ACDC labels LV myocardium only)
    }
  }
  if (rr < r_epi) {
    label = 2;
    val = h.myo;
    if (rr < r_endo) {
      label = 3;
      val = h.blood;
      // two papillary muscles: dark, inside the cavity and labelled as cavity (ACDC's convention)
      for (double ang : {-0.8, 2.2}) {
        const double pu = 0.6 * r_endo * std::cos(ang), pv = 0.6 * r_endo * std::sin(ang);
        if (std::hypot(u - pu, v - pv) < 0.18 * r_endo) val = h.myo * 1.15;
      }
    }
  }
}

}  // namespace

AcdcPatientInfo acdc_patient_info(uint64_t seed, int patient) {
  PhantomRandom r(seed ^ 0xACDCull, static_cast<uint64_t>(patient));
  AcdcPatientInfo info;
  info.group = kGroups[static_cast<int>(r.uniform() * 5) % 5];  // the first draw of draw_heart
  PhantomRandom q(seed ^ 0x1AF0ull, static_cast<uint64_t>(patient));
  info.n_frames = static_cast<int>(std::lround(q.uniform(20, 30)));
  info.es_frame = static_cast<int>(std::lround(q.uniform(0.3, 0.45) * info.n_frames));
  info.height_cm = std::round(q.uniform(150, 195));
  info.weight_kg = std::round(q.uniform(50, 110));
  return info;
}

std::pair<Volume, Volume> make_acdc_frame(uint64_t seed, int patient, bool es, const AcdcPhantomOptions& o) {
  const Heart h = draw_heart(seed, patient);
  const int64_t n = o.nx > 0 ? o.nx : h.native_n;
  const double sxy = h.fov / static_cast<double>(n);
  const int64_t nz = h.nz + h.apex_pad;
  Volume img = Volume::make({n, n, nz}, {sxy, sxy, h.sz}), lab = img;
  img.datatype = "int16";
  lab.datatype = "uint8";
  for (auto* v : {&img, &lab}) {
    v->affine[0][3] = v->affine[1][3] = -0.5 * h.fov;
    v->affine[2][3] = 0;
  }
  const uint64_t def_s = splitmix64(seed * 31 + static_cast<uint64_t>(patient)), bias_s = def_s ^ 0xB1A5ull;
  const uint64_t noise_s = splitmix64(def_s ^ (es ? 0xE5ull : 0xEDull));
  const double c = std::cos(h.rot), s = std::sin(h.rot);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < nz; ++k) {
    const double t = h.nz > 1 ? static_cast<double>(k) / static_cast<double>(h.nz - 1) : 0.0;
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < n; ++i) {
        const double wx = (static_cast<double>(i) + 0.5) * sxy - 0.5 * h.fov, wy = (static_cast<double>(j) + 0.5) * sxy - 0.5 * h.fov;
        const double dx = h.def_amp * value_noise(def_s, wx, wy, 0, 35), dy = h.def_amp * value_noise(def_s + 1, wx, wy, 0, 35);
        const double px = wx + dx - h.cx, py = wy + dy - h.cy;
        const double u = c * px + s * py, v = -s * px + c * py;
        double val;
        int label;
        classify(h, es, k >= h.nz ? 1.5 : t, u, v, wx + dx, wy + dy, val, label);
        const double bias = 1 + h.bias_amp * value_noise(bias_s, wx, wy, static_cast<double>(k) * h.sz, 120);
        const int64_t idx = i + n * (j + n * k);
        img.data[static_cast<size_t>(idx)] = static_cast<float>(std::round(rician(val * bias, o.noise_sigma, noise_s, static_cast<uint64_t>(idx))));
        lab.data[static_cast<size_t>(idx)] = static_cast<float>(label);
      }
  }
  return {std::move(img), std::move(lab)};
}

void write_acdc_phantom(const std::string& dir, int n_patients, uint64_t seed, const AcdcPhantomOptions& opt) {
  if (n_patients < 1 || n_patients > 999) throw std::invalid_argument("write_acdc_phantom: 1..999 patients");
  for (int p = 0; p < n_patients; ++p) {
    char id[32];
    std::snprintf(id, sizeof id, "patient%03d", p + 1);
    const std::filesystem::path folder = std::filesystem::path(dir) / "training" / id;
    std::filesystem::create_directories(folder);
    const AcdcPatientInfo info = acdc_patient_info(seed, p);
    for (bool es : {false, true}) {
      char stem[64];
      std::snprintf(stem, sizeof stem, "%s_frame%02d", id, es ? info.es_frame : info.ed_frame);
      const auto [img, lab] = make_acdc_frame(seed, p, es, opt);
      write_nifti((folder / (std::string(stem) + ".nii.gz")).string(), img, "int16");
      write_nifti((folder / (std::string(stem) + "_gt.nii.gz")).string(), lab, "uint8");
    }
    std::ofstream cfg(folder / "Info.cfg");
    cfg << "ED: " << info.ed_frame << "\nES: " << info.es_frame << "\nGroup: " << info.group << "\nHeight: " << info.height_cm
        << "\nNbFrame: " << info.n_frames << "\nWeight: " << info.weight_kg << "\n";
    if (!cfg) throw std::runtime_error((folder / "Info.cfg").string() + ": cannot write");
  }
}

}  // namespace seg
