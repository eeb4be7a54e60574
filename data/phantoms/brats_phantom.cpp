// BraTS-like phantom (see brats_phantom.h).
#include "data/phantoms/brats_phantom.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "data/formats/nifti.h"
#include "data/phantoms/phantom_shapes.h"

namespace seg {

namespace {
// tissue → {flair, t1, t1ce, t2} intensity
constexpr double kContrast[7][4] = {
    {0, 0, 0, 0},          // outside the brain (skull-stripped)
    {380, 520, 520, 300},  // white matter
    {460, 400, 410, 420},  // grey matter
    {90, 150, 150, 900},   // CSF
    {720, 330, 330, 700},  // oedema
    {560, 380, 950, 560},  // enhancing tumour
    {380, 220, 240, 850},  // necrosis
};
}  // namespace

BratsCase make_brats_case(uint64_t seed, int index, int64_t nx_in) {
  PhantomRandom r(seed ^ 0xB2A75ull, static_cast<uint64_t>(index));
  const int64_t nx = nx_in > 0 ? nx_in : 240, nz = std::max<int64_t>(1, std::lround(155.0 * static_cast<double>(nx) / 240.0));
  const double s = 240.0 / static_cast<double>(nx), sz = 155.0 / static_cast<double>(nz);
  const double ba = r.uniform(64, 72), bb = r.uniform(80, 90), bc = r.uniform(58, 66);  // brain semi-axes (mm)
  const double side = r.uniform() < 0.5 ? -1 : 1;
  const double tx = side * r.uniform(18, 38), ty = r.uniform(-30, 30), tz = r.uniform(-10, 25);
  const double r_ed = r.uniform(22, 34), r_en = r.uniform(9, 16), rim = r.uniform(3, 5.5);
  const double sig = r.uniform(12, 20);
  const uint64_t tex = splitmix64(seed * 977 + static_cast<uint64_t>(index)), noise_s = tex ^ 0x5A5Aull;
  BratsCase c;
  c.labels = Volume::make({nx, nx, nz}, {s, s, sz});
  c.labels.datatype = "uint8";
  for (auto& im : c.images) {
    im = c.labels;
    im.datatype = "int16";
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t j = 0; j < nx; ++j)
      for (int64_t i = 0; i < nx; ++i) {
        const double x = (static_cast<double>(i) + 0.5) * s - 120, y = (static_cast<double>(j) + 0.5) * s - 120, z = (static_cast<double>(k) + 0.5) * sz - 77.5;
        const double e = (x / ba) * (x / ba) + (y / bb) * (y / bb) + (z / bc) * (z / bc) + 0.08 * value_noise(tex, x, y, z, 25);
        int tissue = 0, label = 0;
        if (e < 1) {
          tissue = e > 0.8 || value_noise(tex + 1, x, y, z, 9) > 0.25 ? 2 : 1;                       // cortex and deep grey
          if (e > 0.93 && value_noise(tex + 2, x, y, z, 5) > 0.3) tissue = 3;                          // sulcal CSF
          if (std::hypot((std::fabs(x) - 9) / 6, y / 28, (z - 8) / 14) < 1) tissue = 3;               // lateral ventricles
          const double d = std::hypot(x - tx, y - ty, z - tz) * (1 + 0.25 * value_noise(tex + 3, x, y, z, 18));
          if (d < r_ed) tissue = 4, label = 2;
          if (d < r_en) tissue = 5, label = 4;
          if (d < r_en - rim) tissue = 6, label = 1;
        }
        const int64_t idx = i + nx * (j + nx * k);
        c.labels.data[static_cast<size_t>(idx)] = static_cast<float>(label);
        const double bias = 1 + 0.12 * value_noise(tex + 4, x, y, z, 90);
        for (int m = 0; m < 4; ++m) {
          const double v = tissue ? rician(kContrast[tissue][m] * bias * (1 + 0.04 * value_noise(tex + 10 + static_cast<uint64_t>(m), x, y, z, 3)), sig, noise_s + static_cast<uint64_t>(m), static_cast<uint64_t>(idx)) : 0.0;
          c.images[static_cast<size_t>(m)].data[static_cast<size_t>(idx)] = static_cast<float>(std::round(v));
        }
      }
  return c;
}

void write_brats_phantom(const std::string& dir, int n, uint64_t seed, int64_t nx) {
  if (n < 1 || n > 999) throw std::invalid_argument("write_brats_phantom: 1..999 cases");
  const char* mods[4] = {"flair", "t1", "t1ce", "t2"};
  for (int i = 0; i < n; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "BraTS19_PH_%03d_1", i + 1);
    const auto folder = std::filesystem::path(dir) / "HGG" / id;
    std::filesystem::create_directories(folder);
    const BratsCase c = make_brats_case(seed, i, nx);
    for (int m = 0; m < 4; ++m) write_nifti((folder / (std::string(id) + "_" + mods[m] + ".nii.gz")).string(), c.images[static_cast<size_t>(m)], "int16");
    write_nifti((folder / (std::string(id) + "_seg.nii.gz")).string(), c.labels, "uint8");
  }
}

}  // namespace seg
