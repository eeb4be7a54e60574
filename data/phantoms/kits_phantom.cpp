// KiTS-like phantom (see kits_phantom.h).
#include "data/phantoms/kits_phantom.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "data/formats/nifti.h"
#include "data/phantoms/phantom_shapes.h"

namespace seg {

std::pair<Volume, Volume> make_kits_case(uint64_t seed, int index, int64_t nx_in) {
  PhantomRandom r(seed ^ 0x4175ull, static_cast<uint64_t>(index));
  const double fov = r.uniform(340, 420), zlen = r.uniform(150, 210);
  const int64_t nx = nx_in > 0 ? nx_in : 512;
  const double s = fov / static_cast<double>(nx), sz = 3.0;
  const int64_t nz = std::lround(zlen / sz);
  const double ba = r.uniform(150, 175), bb = r.uniform(105, 125), fat = r.uniform(10, 25);
  const double kx = r.uniform(62, 72), ky = r.uniform(30, 40), kz0 = r.uniform(-15, 15);  // kidney centres at ±kx
  const double ka = r.uniform(24, 30), kb = r.uniform(20, 26), kc = r.uniform(45, 55);   // kidney semi-axes (mm)
  const double tside = r.uniform() < 0.5 ? -1 : 1, tr = r.uniform(10, 28), tang = r.uniform(-1.2, 1.2), tzo = r.uniform(-25, 25);
  const double cortex = r.uniform(160, 220), tumour_hu = r.uniform(70, 130);
  const uint64_t tex = splitmix64(seed * 131 + static_cast<uint64_t>(index)), noise_s = tex ^ 0xC7ull;
  Volume ct = Volume::make({nx, nx, nz}, {s, s, sz}), gt = ct;
  ct.datatype = "int16";
  gt.datatype = "uint8";
  for (auto* v : {&ct, &gt}) v->affine[0][3] = v->affine[1][3] = -0.5 * fov, v->affine[2][3] = -0.5 * zlen;
  // tumour centre on the kidney's lateral surface
  const double tcx = tside * (kx + ka * std::cos(tang)), tcy = ky + kb * std::sin(tang), tcz = kz0 + tzo;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t j = 0; j < nx; ++j)
      for (int64_t i = 0; i < nx; ++i) {
        const double x = (static_cast<double>(i) + 0.5) * s - 0.5 * fov, y = (static_cast<double>(j) + 0.5) * s - 0.5 * fov;
        const double z = (static_cast<double>(k) + 0.5) * sz - 0.5 * zlen;
        double hu = -1000;
        int label = 0;
        const double be = (x / ba) * (x / ba) + (y / bb) * (y / bb);
        if (be < 1) {
          hu = (x / (ba - fat)) * (x / (ba - fat)) + (y / (bb - fat)) * (y / (bb - fat)) > 1 ? -100 : -90 + 20 * value_noise(tex, x, y, z, 12);
          if (std::hypot((x + 60) / 85, (y + 5) / 70, z / 160) < 1 && z > -40) hu = 60;                  // liver (patient right = image left)
          if (std::hypot((x - 85) / 40, (y - 20) / 50, (z - 30) / 60) < 1) hu = 50;                      // spleen
          if (std::hypot(x / 70, (y + 40) / 35) < 1 && hu < -50) hu = 25 + 15 * value_noise(tex + 1, x, y, z, 8);  // bowel
          if (std::hypot(x, y - 70) < 20) hu = std::hypot(x, y - 70) > 16 ? 700 : 250;                   // vertebra
          if (std::hypot(x - 15, y - 40) < 11) hu = 180;                                                  // aorta
          if (std::hypot(x + 22, y - 38) < 12) hu = 110;                                                  // vena cava
          for (int sd = -1; sd <= 1; sd += 2) {
            const double u = (x - sd * kx) / ka, v = (y - ky) / kb, w = (z - kz0) / kc;
            const double e = u * u + v * v + w * w + 0.1 * value_noise(tex + 2, x, y, z, 15);
            if (e < 1 && !(sd * u < -0.45 && std::fabs(w) < 0.3)) {  // hilum notch on the medial side
              label = 1;
              hu = e > 0.55 ? cortex : cortex * 0.55;                 // cortex, medulla
              if (e < 0.12) hu = 10;                                  // renal pelvis (urine)
            }
          }
          const double td = std::hypot(x - tcx, y - tcy, z - tcz) * (1 + 0.15 * value_noise(tex + 3, x, y, z, 10));
          if (td < tr) {
            label = 2;
            hu = tumour_hu + 25 * value_noise(tex + 4, x, y, z, 4);
          }
        }
        const int64_t idx = i + nx * (j + nx * k);
        hu += 15 * phantom_normal(noise_s, static_cast<uint64_t>(idx));
        ct.data[static_cast<size_t>(idx)] = static_cast<float>(std::clamp(std::round(hu), -1024.0, 3071.0));
        gt.data[static_cast<size_t>(idx)] = static_cast<float>(label);
      }
  return {std::move(ct), std::move(gt)};
}

void write_kits_phantom(const std::string& dir, int n, uint64_t seed, int64_t nx) {
  if (n < 1 || n > 99999) throw std::invalid_argument("write_kits_phantom: 1..99999 cases");
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "case_%05d", i);
    const auto folder = std::filesystem::path(dir) / id;
    std::filesystem::create_directories(folder);
    const auto [ct, gt] = make_kits_case(seed, i, nx);
    write_nifti((folder / "imaging.nii.gz").string(), ct, "int16");
    write_nifti((folder / "segmentation.nii.gz").string(), gt, "uint8");
  }
}

}  // namespace seg
