// PROMISE12-like phantom (see promise12_phantom.h).
#include "data/phantoms/promise12_phantom.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "data/formats/metaimage.h"
#include "data/phantoms/phantom_shapes.h"

namespace seg {

std::pair<Volume, Volume> make_promise12_case(uint64_t seed, int index, int64_t nx_in) {
  PhantomRandom r(seed ^ 0x9120ull, static_cast<uint64_t>(index));
  const int64_t nx = nx_in > 0 ? nx_in : 320, nz = std::lround(r.uniform(20, 30));
  const double fov = 192, s = fov / static_cast<double>(nx), sz = 3.6, zlen = sz * static_cast<double>(nz);
  const double pa = r.uniform(18, 26), pb = r.uniform(14, 20), pc = r.uniform(16, 24);  // prostate semi-axes
  const double px = r.uniform(-6, 6), py = r.uniform(-4, 8), pz = r.uniform(-10, 10);
  const double sig = r.uniform(8, 14);
  const uint64_t tex = splitmix64(seed * 733 + static_cast<uint64_t>(index)), noise_s = tex ^ 0x77ull;
  Volume img = Volume::make({nx, nx, nz}, {s, s, sz}), lab = img;
  img.datatype = "int16";
  lab.datatype = "uint8";
  for (auto* v : {&img, &lab}) v->affine[0][3] = v->affine[1][3] = -0.5 * fov, v->affine[2][3] = -0.5 * zlen;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t j = 0; j < nx; ++j)
      for (int64_t i = 0; i < nx; ++i) {
        const double x = (static_cast<double>(i) + 0.5) * s - 0.5 * fov, y = (static_cast<double>(j) + 0.5) * s - 0.5 * fov;
        const double z = (static_cast<double>(k) + 0.5) * sz - 0.5 * zlen;
        double v = 260 + 60 * value_noise(tex, x, y, z, 10);  // pelvic fat
        int label = 0;
        for (int sd = -1; sd <= 1; sd += 2) {
          if (std::hypot((x - sd * 45) / 18, (y - 5) / 35) < 1) v = 90;              // obturator internus
          const double bd = std::hypot((x - sd * 75) / 20, (y - 10) / 40);
          if (bd < 1) v = bd > 0.8 ? 30 : 300;                                        // ischium: cortex, marrow
        }
        if (std::hypot(x / 45, (y + 45) / 30, (z - 35) / 35) < 1) v = 800;            // bladder
        const double rd = std::hypot((x - px) / 17, (y - py - pb - 14) / 12);
        if (rd < 1) v = rd < 0.45 ? 15 : 110;                                         // rectum: air, wall
        const double e = ((x - px) / pa) * ((x - px) / pa) + ((y - py) / pb) * ((y - py) / pb) + ((z - pz) / pc) * ((z - pz) / pc) +
                         0.12 * value_noise(tex + 1, x, y, z, 12);
        if (e < 1) {
          label = 1;
          v = (e < 0.45 && y < py + 0.3 * pb) ? 150 + 40 * value_noise(tex + 2, x, y, z, 4) : 330;  // central gland, PZ
        }
        const double coil = 1 + 1.4 * std::exp(-std::hypot(x - px, y - (py + pb + 30)) / 35);     // endorectal coil
        const int64_t idx = i + nx * (j + nx * k);
        img.data[static_cast<size_t>(idx)] = static_cast<float>(std::round(rician(v * coil, sig, noise_s, static_cast<uint64_t>(idx))));
        lab.data[static_cast<size_t>(idx)] = static_cast<float>(label);
      }
  return {std::move(img), std::move(lab)};
}

void write_promise12_phantom(const std::string& dir, int n, uint64_t seed, int64_t nx) {
  if (n < 1 || n > 99) throw std::invalid_argument("write_promise12_phantom: 1..99 cases (CaseXX)");
  std::filesystem::create_directories(dir);
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "Case%02d", i);
    const auto [img, lab] = make_promise12_case(seed, i, nx);
    write_metaimage((std::filesystem::path(dir) / (std::string(id) + ".mhd")).string(), img, false);
    write_metaimage((std::filesystem::path(dir) / (std::string(id) + "_segmentation.mhd")).string(), lab, false);
  }
}

}  // namespace seg
