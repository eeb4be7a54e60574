// JSRT, polyp and fundus phantoms (see xray_phantoms.h).
#include "data/phantoms/xray_phantoms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "data/formats/gif_io.h"
#include "data/formats/image_io.h"
#include "data/formats/png_io.h"
#include "data/phantoms/phantom_shapes.h"
#include "data/transforms/resample.h"

namespace seg {

namespace fs = std::filesystem;

namespace {
Volume grid2d(int64_t w, int64_t h, double spacing, int64_t channels, const char* dt) {
  Volume v = Volume::make({w, h, 1}, {spacing, spacing, 1});
  v.channels = channels;
  v.data.assign(static_cast<size_t>(w * h * channels), 0.f);
  v.datatype = dt;
  return v;
}
float u8(double x) { return static_cast<float>(std::clamp(std::round(x), 0.0, 255.0)); }
}  // namespace

std::pair<Volume, Volume> make_jsrt_case(uint64_t seed, int index, int64_t side_in, JsrtClasses classes) {
  const JsrtCase c = make_jsrt_structures(seed, index, side_in);
  Volume lab = c.image;
  lab.datatype = "uint8";
  for (size_t p = 0; p < lab.data.size(); ++p) {
    int label = 0;
    for (int s = 0; s < kScrStructureCount; ++s)
      if (c.structures[p] >> s & 1) label = scr_label(classes, s) > 0 ? scr_label(classes, s) : label;
    lab.data[p] = static_cast<float>(label);
  }
  return {c.image, std::move(lab)};
}

JsrtCase make_jsrt_structures(uint64_t seed, int index, int64_t side_in) {
  PhantomRandom r(seed ^ 0x15A7ull, static_cast<uint64_t>(index));
  const int64_t n = side_in > 0 ? side_in : 2048;
  const double s = 358.4 / static_cast<double>(n);  // JSRT: 2048 × 0.175 mm
  // Patient positioning and build: the whole chest shifted by (gx, gy) mm and scaled by gs on the detector.
  const double gs = r.uniform(0.88, 1.12), gx = r.uniform(-14, 14), gy = r.uniform(-16, 16);
  const double lw = r.uniform(90, 120), lh = r.uniform(120, 170), lx = r.uniform(58, 78), ly = r.uniform(-12, 12);
  const double size_r = r.uniform(0.92, 1.08), size_l = r.uniform(0.92, 1.08);  // the lungs differ a little
  const double hw = r.uniform(50, 75), hh = r.uniform(42, 62), hx = r.uniform(5, 25), hy = r.uniform(45, 72);
  const double cl_y = r.uniform(-125, -105), tilt = r.uniform(0.15, 0.3);
  const uint64_t tex = splitmix64(seed * 57 + static_cast<uint64_t>(index)), noise_s = tex ^ 0x33ull, vessels = tex ^ 0x77ull;
  JsrtCase out;
  out.image = grid2d(n, n, s, 1, "uint16");
  out.structures.assign(static_cast<size_t>(n * n), 0);
  Volume& img = out.image;
  // bit s of structures[p]: kScrStructures[s] (left lung, right lung, heart, left clavicle, right clavicle)
  constexpr uint8_t kLeftLung = 1, kRightLung = 2, kHeart = 4, kLeftClavicle = 8, kRightClavicle = 16;
#pragma omp parallel for
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < n; ++i) {
      const double px = (static_cast<double>(i) + 0.5) * s - 179.2, py = (static_cast<double>(j) + 0.5) * s - 179.2;
      const double x = (px - gx) / gs, y = (py - gy) / gs;  // anatomy coordinates (mm)
      // stored polarity: attenuation lowers the value (air 4000, soft tissue ~1500, bone ~700). The soft tissue of
      // the mediastinum, the heart and the abdomen below the diaphragm is one density, and both lungs look alike
      // (a vertical gradient and vessel texture, no side-specific shading): only context tells them apart, as in a
      // real radiograph.
      const bool body = std::hypot(x / 165, (y + 10) / 190) < 1;
      double att = body ? 1.0 : 0.1;
      if (body && y > ly + 0.42 * lh) att = 1.15;  // abdomen below the lung bases
      if (std::fabs(x) < 22 && y < hy) att = 1.15;  // mediastinum
      uint8_t st = 0;
      for (int sd = -1; sd <= 1; sd += 2) {  // sd = −1: image left = the patient's right (PA view)
        const double k = sd < 0 ? size_r : size_l;
        const double u = (x - sd * lx) / (lw * k * 0.5), v = (y - ly) / (lh * k * 0.5);
        const double e = u * u + v * v * (v < 0 ? 1.0 : 0.8) + 0.06 * value_noise(tex, x, y, 0, 30);
        if (e < 1 && !(sd * u < -0.6 && v > 0.2))
          att = 0.32 + 0.04 * v + 0.07 * value_noise(vessels, x, y, 0, 7), st = sd < 0 ? kRightLung : kLeftLung;
      }
      if (std::hypot((x - hx) / hw, (y - hy) / hh) < 1) att = 1.15, st = kHeart;  // heart shadow: the lungs end there
      if (std::fabs(x) < 15 && body) att += 0.3;                                  // spine
      for (int sd = -1; sd <= 1; sd += 2) {                                      // clavicles: tilted bars over the lungs
        const double cx = sd * x;
        if (cx > 15 && cx < 140 && std::fabs(y - (cl_y + tilt * (cx - 15))) < 8)
          att = 1.6, st |= sd < 0 ? kRightClavicle : kLeftClavicle;
      }
      for (int rib = 0; rib < 9; ++rib) {                                        // ribs: faint arcs
        const double ry = -100 + rib * 24 + 0.004 * x * x;
        if (std::fabs(y - ry) < 5 && std::fabs(x) > 20 && std::fabs(x) < 150) att += 0.25;
      }
      const double val = 4000 * std::exp(-1.1 * att) + 25 * phantom_normal(noise_s, static_cast<uint64_t>(i + n * j));
      img.data[static_cast<size_t>(i + n * j)] = static_cast<float>(std::clamp(std::round(val), 0.0, 4095.0));
      out.structures[static_cast<size_t>(i + n * j)] = st;
    }
  return out;
}

void write_jsrt_phantom(const std::string& dir, int n, uint64_t seed) {
  if (n < 1 || n > 9999) throw std::invalid_argument("write_jsrt_phantom: 1..9999 cases");
  fs::create_directories(dir);
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "JPCPH%04d", i + 1);
    const JsrtCase c = make_jsrt_structures(seed, i, 2048);
    std::vector<uint8_t> bytes(static_cast<size_t>(2048 * 2048 * 2));
    for (size_t k = 0; k < c.image.data.size(); ++k) {
      const auto v = static_cast<uint16_t>(c.image.data[k]);
      bytes[2 * k] = static_cast<uint8_t>(v >> 8), bytes[2 * k + 1] = static_cast<uint8_t>(v & 0xFF);  // big-endian
    }
    io::write_file_atomic((fs::path(dir) / (std::string(id) + ".IMG")).string(), bytes, false);
    // SCR's masks: 1024² (a 2×2 block is foreground when its top-left pixel is), 0/255 GIFs, odd cases in fold1
    const fs::path masks = fs::path(dir) / "scratch" / (i % 2 == 0 ? "fold1" : "fold2") / "masks";
    for (int s = 0; s < kScrStructureCount; ++s) {
      std::vector<uint8_t> m(static_cast<size_t>(1024 * 1024));
      for (int64_t y = 0; y < 1024; ++y)
        for (int64_t x = 0; x < 1024; ++x)
          m[static_cast<size_t>(y * 1024 + x)] = (c.structures[static_cast<size_t>(2 * y * 2048 + 2 * x)] >> s & 1) ? 255 : 0;
      fs::create_directories(masks / kScrStructures[s]);
      write_gif_grey((masks / kScrStructures[s] / (std::string(id) + ".gif")).string(), 1024, 1024, m);
    }
  }
}

std::pair<Volume, Volume> make_polyp_case(uint64_t seed, int index, int64_t width) {
  PhantomRandom r(seed ^ 0x9017ull, static_cast<uint64_t>(index));
  const int64_t w = width > 0 ? width : 384, h = w * 3 / 4;
  const double sc = 384.0 / static_cast<double>(w);  // features in the units of a 384-wide frame
  const double cx = r.uniform(90, 294), cy = r.uniform(70, 218), ra = r.uniform(25, 70), rb = ra * r.uniform(0.6, 1.0), ang = r.uniform(0, 3.1416);
  const double hue = r.uniform(-15, 15);
  const uint64_t tex = splitmix64(seed * 19 + static_cast<uint64_t>(index)), noise_s = tex ^ 0x44ull;
  Volume img = grid2d(w, h, 1, 3, "uint8"), lab = grid2d(w, h, 1, 1, "uint8");
  const int64_t P = w * h;
  for (int64_t j = 0; j < h; ++j)
    for (int64_t i = 0; i < w; ++i) {
      const double x = (static_cast<double>(i) + 0.5) * sc, y = (static_cast<double>(j) + 0.5) * sc;
      const double folds = 0.5 + 0.5 * std::sin(0.05 * std::hypot(x - 192, y - 144) + 2 * value_noise(tex, x, y, 0, 60));
      const double vign = std::clamp(1.2 - std::hypot(x - 192, y - 144) / 230, 0.15, 1.0);
      double R = 190 + 40 * folds + hue, G = 95 + 30 * folds, B = 80 + 20 * folds;
      const double dx = x - cx, dy = y - cy, u = (std::cos(ang) * dx + std::sin(ang) * dy) / ra, v = (-std::sin(ang) * dx + std::cos(ang) * dy) / rb;
      const double e = u * u + v * v + 0.15 * value_noise(tex + 1, x, y, 0, 20);
      int label = 0;
      if (e < 1) {
        label = 1;
        const double shade = 0.75 + 0.35 * (1 - e) - 0.2 * u;  // raised: lit from the scope
        R = (205 + hue) * shade, G = 120 * shade + 25 * value_noise(tex + 2, x, y, 0, 6), B = 95 * shade;
      }
      const double spec = value_noise(tex + 3, x, y, 0, 9) > 0.82 ? 120 : 0;  // specular highlights
      const double noise = 4 * phantom_normal(noise_s, static_cast<uint64_t>(i + w * j));
      img.data[static_cast<size_t>(i + w * j)] = u8(R * vign + spec + noise);
      img.data[static_cast<size_t>(P + i + w * j)] = u8(G * vign + spec + noise);
      img.data[static_cast<size_t>(2 * P + i + w * j)] = u8(B * vign + spec + noise);
      lab.data[static_cast<size_t>(i + w * j)] = static_cast<float>(label);
    }
  return {std::move(img), std::move(lab)};
}

void write_polyp_phantom(const std::string& dir, int n, uint64_t seed, int64_t width) {
  fs::create_directories(fs::path(dir) / "images");
  fs::create_directories(fs::path(dir) / "masks");
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "polyp_%03d", i + 1);
    auto [img, lab] = make_polyp_case(seed, i, width);
    for (auto& v : lab.data) v *= 255;
    write_png((fs::path(dir) / "images" / (std::string(id) + ".png")).string(), img);
    write_png((fs::path(dir) / "masks" / (std::string(id) + ".png")).string(), lab);
  }
}

std::pair<Volume, Volume> make_fundus_case(uint64_t seed, int index, int64_t side) {
  PhantomRandom r(seed ^ 0xF0D5ull, static_cast<uint64_t>(index));
  const int64_t n = side > 0 ? side : 512;
  const double sc = 512.0 / static_cast<double>(n);
  const double dx0 = r.uniform(150, 210) * (r.uniform() < 0.5 ? 1 : -1) + 256, dy0 = r.uniform(220, 290);
  const double dr = r.uniform(38, 52), cup = r.uniform(0.3, 0.7);  // disc radius (px at 512), cup-to-disc ratio
  const uint64_t tex = splitmix64(seed * 23 + static_cast<uint64_t>(index)), noise_s = tex ^ 0x55ull;
  Volume img = grid2d(n, n, 1, 3, "uint8"), lab = grid2d(n, n, 1, 1, "uint8");
  const int64_t P = n * n;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < n; ++i) {
      const double x = (static_cast<double>(i) + 0.5) * sc, y = (static_cast<double>(j) + 0.5) * sc;
      double R = 0, G = 0, B = 0;
      int label = 0;
      const double rr = std::hypot(x - 256, y - 256);
      if (rr < 245) {  // circular field of view
        const double light = std::clamp(1.1 - rr / 420, 0.3, 1.0);
        R = 200 * light + 15 * value_noise(tex, x, y, 0, 30), G = 90 * light, B = 40 * light;
        if (std::hypot(x - (512 - dx0) * 0.5 - 128, y - dy0) < 30) R *= 0.7, G *= 0.6;  // macula
        // vessels: curves leaving the disc, darker red
        const double ang = std::atan2(y - dy0, x - dx0), dist = std::hypot(x - dx0, y - dy0);
        for (int vsl = 0; vsl < 6; ++vsl) {
          const double a0 = -2.6 + vsl * 1.0 + 0.3 * value_noise(tex + 1, dist, vsl, 0, 80);
          const double width = std::max(1.0, 5.5 - dist / 60);
          if (std::fabs(std::remainder(ang - a0, 6.283185307179586)) * dist < width && dist > dr * 0.3) R *= 0.65, G *= 0.55, B *= 0.7;
        }
        const double e = dist / (dr * (1 + 0.06 * value_noise(tex + 2, x, y, 0, 20)));
        if (e < 1) {
          label = e < cup ? 2 : 1;
          R = 240, G = e < cup ? 230 : 190, B = e < cup ? 180 : 110;
        }
      }
      const double noise = 3 * phantom_normal(noise_s, static_cast<uint64_t>(i + n * j));
      img.data[static_cast<size_t>(i + n * j)] = u8(R + noise);
      img.data[static_cast<size_t>(P + i + n * j)] = u8(G + noise);
      img.data[static_cast<size_t>(2 * P + i + n * j)] = u8(B + noise);
      lab.data[static_cast<size_t>(i + n * j)] = static_cast<float>(label);
    }
  return {std::move(img), std::move(lab)};
}

void write_fundus_phantom(const std::string& dir, int n, uint64_t seed, int64_t side) {
  fs::create_directories(fs::path(dir) / "images");
  fs::create_directories(fs::path(dir) / "masks");
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "fundus_%03d", i + 1);
    const auto [img, lab] = make_fundus_case(seed, i, side);
    write_png((fs::path(dir) / "images" / (std::string(id) + ".png")).string(), img);
    write_png((fs::path(dir) / "masks" / (std::string(id) + ".png")).string(), lab);
  }
}

}  // namespace seg
