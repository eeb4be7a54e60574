// Paper 2's data (see data.h).
#include "apps/paper2/data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <stdexcept>

#include "data/datasets/datasets.h"
#include "data/phantoms/acdc_phantom.h"
#include "data/phantoms/phantom_random.h"
#include "data/phantoms/xray_phantoms.h"
#include "data/transforms/crop_pad.h"
#include "data/transforms/degrade.h"
#include "data/transforms/resample.h"

namespace seg::paper2 {

namespace {

constexpr int64_t kJsrtImages = 247, kAcdcSubjects = 100;

// Image bilinear, labels nearest, to S×S (every slice); a no-op at S already.
void resize_case(Case2D& c, int64_t S) {
  if (c.image.nx() != S || c.image.ny() != S) c.image = resize_2d(c.image, S, S, Interp::Linear);
  if (c.labels.nx() != S || c.labels.ny() != S) c.labels = resize_2d(c.labels, S, S, Interp::Nearest);
}

// JSRT's stored values (0..4095, high = radiolucent) → display polarity in [0, 1].
Volume jsrt_unit(const Volume& v) {
  Volume u = v;
  u.datatype = "float32";
  for (float& f : u.data) f = 1.f - std::clamp(f, 0.f, 4095.f) / 4095.f;
  return u;
}

// Per-slice min–max to [0, 1] (a constant slice becomes 0).
Volume slice_unit(const Volume& v) {
  Volume u = v;
  u.datatype = "float32";
  const size_t plane = static_cast<size_t>(v.nx() * v.ny());
  for (int64_t z = 0; z < v.nz(); ++z) {
    float* p = u.data.data() + static_cast<size_t>(z) * plane;
    const auto [lo, hi] = std::minmax_element(p, p + plane);
    const float a = *lo, range = *hi - *lo;
    for (size_t i = 0; i < plane; ++i) p[i] = range > 0 ? (p[i] - a) / range : 0.f;
  }
  return u;
}

// ACDC ids (1 RV, 2 myocardium, 3 LV) → the paper's order (1 LV, 2 RV, 3 myocardium).
Volume acdc_classes(const Volume& v) {
  Volume l = v;
  l.datatype = "uint8";
  for (float& f : l.data) {
    const int id = static_cast<int>(f);
    f = id == 3 ? 1.f : id == 1 ? 2.f : id == 2 ? 3.f : 0.f;
  }
  return l;
}

uint64_t hash_id(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

int phantom_index(const std::string& id) {  // "JPCPH0007" or "patient007_ED" → 6
  const size_t p = id.find_first_of("0123456789");
  return std::stoi(id.substr(p)) - 1;
}

Case2D load_one(Dataset d, const Case& c, const DataOptions& opt) {
  Case2D out;
  out.id = c.id;
  out.patient = c.patient;
  if (opt.dir.empty()) {  // phantom, in memory
    const int i = phantom_index(c.id);
    if (d == Dataset::Jsrt) {
      auto [img, lab] = make_jsrt_case(opt.phantom_seed, i, std::max<int64_t>(opt.size, 256), JsrtClasses::RightLeftLungHeart);
      out.image = jsrt_unit(img);
      out.labels = std::move(lab);
    } else {
      const bool es = c.id.size() > 3 && c.id.compare(c.id.size() - 3, 3, "_ES") == 0;
      auto [img, lab] = make_acdc_frame(opt.phantom_seed, i, es, AcdcPhantomOptions{.nx = opt.size});
      out.image = slice_unit(img);
      out.labels = acdc_classes(lab);
    }
  } else {
    const LoadedCase lc = load_case(c, LoadOptions{.jsrt = JsrtClasses::RightLeftLungHeart});
    if (!lc.has_label) throw std::runtime_error(c.image_paths[0] + ": no label map for case " + c.id);
    if (d == Dataset::Jsrt) {
      out.image = jsrt_unit(lc.images[0]);
      out.labels = lc.label;
    } else {
      out.image = lc.images[0];
      out.labels = acdc_classes(lc.label);
    }
  }
  resize_case(out, opt.size);
  if (d == Dataset::Acdc) out.image = slice_unit(out.image);  // after resizing, so every slice spans [0, 1] exactly
  return out;
}

std::vector<Case> phantom_cases(Dataset d, int n) {
  std::vector<Case> cases;
  for (int i = 0; i < n; ++i) {
    char id[32];
    if (d == Dataset::Jsrt) {
      std::snprintf(id, sizeof id, "JPCPH%04d", i + 1);
      cases.push_back(Case{id, {}, "", id, "jsrt"});
    } else {
      std::snprintf(id, sizeof id, "patient%03d", i + 1);
      for (const char* f : {"_ED", "_ES"}) cases.push_back(Case{std::string(id) + f, {}, "", id, "acdc"});
    }
  }
  return cases;
}

}  // namespace

Dataset parse_dataset(const std::string& s) {
  if (s == "jsrt") return Dataset::Jsrt;
  if (s == "acdc") return Dataset::Acdc;
  throw std::runtime_error("data set: expected jsrt or acdc, got '" + s + "'");
}

const char* dataset_name(Dataset d) { return d == Dataset::Jsrt ? "jsrt" : "acdc"; }

std::vector<std::string> class_names(Dataset d) {
  if (d == Dataset::Jsrt) return {"background", "right lung", "left lung", "heart"};
  return {"background", "LV", "RV", "myocardium"};
}

std::vector<int64_t> paper_counts(Dataset d, int64_t n) {
  const std::vector<int64_t> paper = d == Dataset::Jsrt ? std::vector<int64_t>{156, 23, 68} : std::vector<int64_t>{70, 10, 20};
  const int64_t total = d == Dataset::Jsrt ? kJsrtImages : kAcdcSubjects;
  if (n == total) return paper;
  if (n < 3) throw std::runtime_error(std::string(dataset_name(d)) + ": a split needs at least 3 cases, got " + std::to_string(n));
  std::vector<int64_t> c(3);
  c[1] = std::max<int64_t>(1, std::llround(static_cast<double>(n) * static_cast<double>(paper[1]) / static_cast<double>(total)));
  c[2] = std::max<int64_t>(1, std::llround(static_cast<double>(n) * static_cast<double>(paper[2]) / static_cast<double>(total)));
  c[0] = std::min<int64_t>(n - c[1] - c[2], std::llround(static_cast<double>(n) * static_cast<double>(paper[0]) / static_cast<double>(total)));
  if (c[0] < 1) throw std::runtime_error(std::string(dataset_name(d)) + ": too few cases (" + std::to_string(n) + ") for a split");
  return c;
}

Split load_split(Dataset d, const DataOptions& opt) {
  if (opt.size < 16 || opt.size % 16 != 0)
    throw std::runtime_error("--size: must be a positive multiple of 16 (the U-Net's four pools), got " + std::to_string(opt.size));
  std::vector<Case> cases;
  Split out;
  if (opt.dir.empty()) {
    const int n = opt.phantom_cases > 0 ? opt.phantom_cases : static_cast<int>(d == Dataset::Jsrt ? kJsrtImages : kAcdcSubjects);
    cases = phantom_cases(d, n);
    out.source = std::string("phantom (") + std::to_string(n) + (d == Dataset::Jsrt ? " images" : " subjects") +
                 ", seed " + std::to_string(opt.phantom_seed) + ")";
  } else {
    cases = list_cases(dataset_name(d), opt.dir);
    out.source = opt.dir;
  }
  std::vector<std::string> patients;
  for (const auto& c : cases)
    if (patients.empty() || patients.back() != c.patient) patients.push_back(c.patient);
  std::sort(patients.begin(), patients.end());
  patients.erase(std::unique(patients.begin(), patients.end()), patients.end());
  const std::vector<int64_t> counts = opt.counts.empty() ? paper_counts(d, static_cast<int64_t>(patients.size())) : opt.counts;
  if (counts.size() != 3) throw std::runtime_error("split: expected 3 counts (train, validation, test)");
  auto parts = split_by_patient_counts(cases, counts, opt.split_seed);
  if (opt.train_subset > 0) {
    if (opt.train_subset > counts[0])
      throw std::runtime_error("--train-subset " + std::to_string(opt.train_subset) + " exceeds the " +
                               std::to_string(counts[0]) + " training cases");
    parts[0] = split_by_patient_counts(parts[0], {opt.train_subset}, opt.split_seed ^ 0x5B5E7ull)[0];
  }
  std::map<std::string, const Case2D*> known;
  if (opt.loaded)
    for (const auto* part : {&opt.loaded->train, &opt.loaded->val, &opt.loaded->test})
      for (const Case2D& c : *part) known[c.id] = &c;
  std::vector<Case2D>* dst[3] = {&out.train, &out.val, &out.test};
  for (int k = 0; k < 3; ++k) {
    dst[k]->resize(parts[static_cast<size_t>(k)].size());
    std::string error;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < static_cast<int64_t>(parts[static_cast<size_t>(k)].size()); ++i) {
      try {
        const Case& c = parts[static_cast<size_t>(k)][static_cast<size_t>(i)];
        const auto it = known.find(c.id);
        (*dst[k])[static_cast<size_t>(i)] = it != known.end() ? *it->second : load_one(d, c, opt);
      } catch (const std::exception& e) {
#pragma omp critical
        if (error.empty()) error = e.what();
      }
    }
    if (!error.empty()) throw std::runtime_error(error);
  }
  return out;
}

Volume Normaliser::apply(const Volume& unit) const {
  Volume v = unit;
  v.datatype = "float32";
  if (dataset == Dataset::Jsrt) {
    const double s = std != 0 ? std : 1.0;
    for (float& f : v.data) f = static_cast<float>((f - mean) / s);
    return v;
  }
  const size_t plane = static_cast<size_t>(v.nx() * v.ny());
  for (int64_t z = 0; z < v.nz(); ++z) {
    float* p = v.data.data() + static_cast<size_t>(z) * plane;
    double m = 0, q = 0;
    for (size_t i = 0; i < plane; ++i) m += p[i];
    m /= static_cast<double>(plane);
    for (size_t i = 0; i < plane; ++i) q += (p[i] - m) * (p[i] - m);
    const double sd = std::sqrt(q / static_cast<double>(plane));
    for (size_t i = 0; i < plane; ++i) p[i] = sd > 0 ? static_cast<float>((p[i] - m) / sd) : 0.f;
  }
  return v;
}

Normaliser fit_normaliser(Dataset d, const std::vector<Case2D>& train) {
  Normaliser n;
  n.dataset = d;
  if (d != Dataset::Jsrt) return n;
  if (train.empty()) throw std::runtime_error("JSRT normalisation: no training image");
  double s = 0, q = 0, count = 0;
  for (const auto& c : train)
    for (float f : c.image.data) s += f, q += static_cast<double>(f) * f, count += 1;
  n.mean = s / count;
  n.std = std::sqrt(std::max(0.0, q / count - n.mean * n.mean));
  return n;
}

std::vector<DegradationSpec> paper_degradations(int64_t size) {
  const double k = static_cast<double>(size) / 256.0;
  return {{Degradation::GaussianNoise, "gaussian_noise", "Gaussian noise", "σ", {0.04, 0.08, 0.12, 0.15, 0.18}},
          {Degradation::GaussianBlur, "gaussian_blur", "Gaussian blur", "σ (px)", {1 * k, 2 * k, 4 * k, 8 * k, 16 * k}},
          {Degradation::ShotNoise, "shot_noise", "Shot noise", "c", {250, 100, 50, 30, 15}}};
}

Case2D degrade(const Case2D& c, Degradation kind, double level, uint64_t seed) {
  Case2D out = c;
  const uint64_t s = splitmix64(seed ^ hash_id(c.id));
  switch (kind) {
    case Degradation::GaussianNoise: out.image = degrade_gaussian_noise(c.image, level, s); break;
    case Degradation::GaussianBlur: out.image = degrade_gaussian_blur(c.image, level); break;
    case Degradation::ShotNoise: out.image = degrade_shot_noise(c.image, level, s); break;
  }
  return out;
}

Case2D shift_horizontal(const Case2D& c, int64_t dx) {
  Case2D out = c;
  out.image = shift_integer(c.image, dx, 0, 0, 0.f);
  out.labels = shift_integer(c.labels, dx, 0, 0, 0.f);
  return out;
}

std::vector<int64_t> paper_shifts(int64_t size) {
  std::vector<int64_t> s;
  for (int64_t d = -64; d <= 64; d += 16) s.push_back(std::llround(static_cast<double>(d) * static_cast<double>(size) / 256.0));
  return s;
}

AveragedMask averaged_mask(const std::vector<Case2D>& train, int64_t classes) {
  if (train.empty()) throw std::runtime_error("averaged mask: no training case");
  const int64_t W = train[0].labels.nx(), H = train[0].labels.ny();
  AveragedMask m;
  m.classes = classes;
  m.freq = Volume::make({W, H, classes}, {1, 1, 1});
  m.freq.datatype = "float32";
  std::vector<double> acc(static_cast<size_t>(W * H * classes), 0.0);
  double slices = 0;
  for (const auto& c : train) {
    if (c.labels.nx() != W || c.labels.ny() != H) throw std::runtime_error("averaged mask: cases differ in size");
    for (int64_t z = 0; z < c.labels.nz(); ++z, slices += 1)
      for (int64_t p = 0; p < W * H; ++p) {
        const int64_t k = static_cast<int64_t>(c.labels.data[static_cast<size_t>(z * W * H + p)]);
        if (k < 0 || k >= classes) throw std::runtime_error("averaged mask: " + c.id + " holds class " + std::to_string(k));
        acc[static_cast<size_t>(k * W * H + p)] += 1;
      }
  }
  for (size_t i = 0; i < acc.size(); ++i) m.freq.data[i] = static_cast<float>(acc[i] / slices);
  return m;
}

Volume AveragedMask::argmax() const {
  const int64_t W = freq.nx(), H = freq.ny();
  Volume out = Volume::make({W, H, 1}, {1, 1, 1});
  out.datatype = "uint8";
  for (int64_t p = 0; p < W * H; ++p) {
    int64_t best = 0;
    for (int64_t k = 1; k < classes; ++k)
      if (freq.data[static_cast<size_t>(k * W * H + p)] > freq.data[static_cast<size_t>(best * W * H + p)]) best = k;
    out.data[static_cast<size_t>(p)] = static_cast<float>(best);
  }
  return out;
}

std::vector<double> averaged_mask_dice(const AveragedMask& m, const std::vector<Case2D>& cases, bool soft) {
  const Volume hard = m.argmax();
  const int64_t P = hard.nx() * hard.ny();
  std::vector<double> out;
  for (const auto& c : cases) {
    if (c.labels.nx() * c.labels.ny() != P) throw std::runtime_error("averaged mask: " + c.id + " has another size");
    double sum = 0;
    int n = 0;
    for (int64_t k = 1; k < m.classes; ++k) {
      double inter = 0, sp = 0, sg = 0;
      for (int64_t z = 0; z < c.labels.nz(); ++z)
        for (int64_t p = 0; p < P; ++p) {
          const double g = c.labels.data[static_cast<size_t>(z * P + p)] == static_cast<float>(k) ? 1.0 : 0.0;
          const double q = soft ? m.freq.data[static_cast<size_t>(k * P + p)]
                                : (hard.data[static_cast<size_t>(p)] == static_cast<float>(k) ? 1.0 : 0.0);
          inter += q * g, sp += q, sg += g;
        }
      if (sp + sg > 0) sum += 2 * inter / (sp + sg), ++n;
    }
    out.push_back(n ? sum / n : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

}  // namespace seg::paper2
