// Label schemes, preprocessing and the case store of the 3-D pipeline (see cases3d.h).
#include "data/pipeline3d/cases3d.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "data/phantoms/brats_phantom.h"
#include "data/phantoms/kits_phantom.h"
#include "data/transforms/intensity.h"
#include "data/transforms/resample.h"

namespace seg {

std::string LabelScheme::describe() const {
  std::ostringstream s;
  s << name << ": classes";
  for (int k = 0; k < classes(); ++k) s << (k ? ", " : " ") << k << " " << class_names[k] << " (raw " << raw_values[k] << ")";
  s << "; regions";
  for (size_t r = 0; r < regions.size(); ++r) {
    s << (r ? ", " : " ") << regions[r].name << " = {";
    for (size_t i = 0; i < regions[r].classes.size(); ++i) s << (i ? ", " : "") << raw_values[regions[r].classes[i]];
    s << "}";
  }
  s << " (raw values); " << summary << " = their mean";
  return s.str();
}

LabelScheme brats_scheme() {
  return {"brats19",
          {0, 1, 2, 4},
          {"background", "NCR/NET", "ED", "ET"},
          {{"ET", {3}}, {"TC", {1, 3}}, {"WT", {1, 2, 3}}},
          "average"};
}

LabelScheme kits_scheme() {
  return {"kits19", {0, 1, 2}, {"background", "kidney", "tumour"}, {{"kidney", {1, 2}}, {"tumour", {2}}}, "composite"};
}

LabelScheme msd_brats_scheme(const std::string& path) {
  nlohmann::json j;
  try {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open");
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": cannot read the Decathlon dataset.json (" + e.what() + ")");
  }
  if (!j.contains("labels") || !j["labels"].is_object())
    throw std::runtime_error(path + ": no \"labels\" object (expected e.g. {\"0\": \"background\", \"1\": \"edema\", …})");
  std::map<int, std::string> labels;
  std::string found;
  for (auto it = j["labels"].begin(); it != j["labels"].end(); ++it) {
    std::string name = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    labels[std::stoi(it.key())] = name;
    found += (found.empty() ? "" : ", ") + it.key() + " " + name;
  }
  int ncr = -1, ed = -1, et = -1;
  for (const auto& [v, n] : labels) {
    if (n.find("edema") != std::string::npos || n.find("oedema") != std::string::npos) ed = v;
    else if (n.find("non-enhancing") != std::string::npos || n.find("non enhancing") != std::string::npos ||
             n.find("necrotic") != std::string::npos || n.find("ncr") != std::string::npos)
      ncr = v;
    else if (n.find("enhancing") != std::string::npos) et = v;
  }
  if (ncr < 0 || ed < 0 || et < 0 || labels.size() != 4)
    throw std::runtime_error(path + ": labels {" + found + "} are not BraTS's tumour sub-regions (expected background, "
                             "oedema, non-enhancing/necrotic tumour and enhancing tumour)");
  LabelScheme s = brats_scheme();
  s.raw_values = {0, ncr, ed, et};
  if (!(ncr == 1 && ed == 2 && et == 4)) s.name = "msd_task01 (labels " + std::to_string(ncr) + " NCR/NET, " +
                                                  std::to_string(ed) + " ED, " + std::to_string(et) + " ET, mapped to BraTS's)";
  return s;
}

std::string Preprocess3d::describe() const {
  std::ostringstream s;
  if (norm == VolumeNorm::ZScoreNonzero) s << "z-score over non-zero voxels per channel";
  else if (norm == VolumeNorm::CtClip) s << "CT clipped to [" << ct_lo << ", " << ct_hi << "] / " << ct_divisor;
  else s << "no normalisation";
  if (spacing_mm > 0) s << ", resampled to " << spacing_mm << " mm isotropic (labels back by nearest neighbour)";
  else s << ", native grid";
  return s.str();
}

int64_t Case3d::bytes() const {
  int64_t n = static_cast<int64_t>((image.data.size() + label.data.size() + original_label.data.size()) * sizeof(float));
  for (const auto& v : class_voxels) n += static_cast<int64_t>(v.size() * sizeof(int32_t));
  return n;
}

Volume labels_to_classes(const Volume& raw, const LabelScheme& scheme, const std::string& name) {
  std::map<int, int> to_class;
  for (int k = 0; k < scheme.classes(); ++k) to_class[scheme.raw_values[k]] = k;
  Volume out = raw;
  out.datatype = "uint8";
  for (size_t i = 0; i < raw.data.size(); ++i) {
    const auto it = to_class.find(static_cast<int>(raw.data[i]));
    if (it == to_class.end() || raw.data[i] != std::floor(raw.data[i]))
      throw std::runtime_error(name + ": label value " + std::to_string(raw.data[i]) + " at voxel " + std::to_string(i) +
                               " is not one of the " + scheme.name + " labels");
    out.data[i] = static_cast<float>(it->second);
  }
  return out;
}

Volume classes_to_labels(const Volume& classes, const LabelScheme& scheme) {
  Volume out = classes;
  for (float& v : out.data) {
    const int k = static_cast<int>(v);
    if (k < 0 || k >= scheme.classes()) throw std::runtime_error("classes_to_labels: class " + std::to_string(k) + " out of range");
    v = static_cast<float>(scheme.raw_values[k]);
  }
  return out;
}

Volume labels_to_grid(const Volume& labels, const Volume& grid) {
  if (labels.dims == grid.dims && labels.spacing == grid.spacing) {
    Volume out = labels;
    out.affine = grid.affine;
    return out;
  }
  Volume out = Volume::make(grid.dims, grid.spacing);
  out.affine = grid.affine;
  out.datatype = labels.datatype;
  std::array<std::vector<int64_t>, 3> src;
  for (int a = 0; a < 3; ++a) {
    src[a].resize(static_cast<size_t>(grid.dims[a]));
    for (int64_t i = 0; i < grid.dims[a]; ++i) {
      const double p = static_cast<double>(i) * grid.spacing[a] / labels.spacing[a];
      src[a][static_cast<size_t>(i)] = std::clamp<int64_t>(static_cast<int64_t>(std::floor(p + 0.5)), 0, labels.dims[a] - 1);
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t z = 0; z < grid.dims[2]; ++z)
    for (int64_t y = 0; y < grid.dims[1]; ++y)
      for (int64_t x = 0; x < grid.dims[0]; ++x)
        out.at(x, y, z) = labels.at(src[0][static_cast<size_t>(x)], src[1][static_cast<size_t>(y)], src[2][static_cast<size_t>(z)]);
  return out;
}

int axial_axis(const Volume& v) {
  int best = 2;
  double m = -1;
  for (int i = 0; i < 3; ++i)
    if (std::abs(v.affine[2][i]) > m) m = std::abs(v.affine[2][i]), best = i;
  return best;
}

namespace {
// The images of a case as one C-channel volume.
Volume stack_channels(const LoadedCase& c) {
  if (c.images.size() == 1) return c.images[0];
  Volume out = c.images[0];
  out.channels = 0;
  out.data.clear();
  for (size_t k = 0; k < c.images.size(); ++k) {
    out.data.insert(out.data.end(), c.images[k].data.begin(), c.images[k].data.end());
    out.channels += c.images[k].channels;
  }
  out.datatype = "float32";
  return out;
}

// One channel of v as its own volume, and back.
Volume channel(const Volume& v, int64_t k) {
  Volume out = v;
  out.channels = 1;
  const size_t n = static_cast<size_t>(v.voxels());
  out.data.assign(v.data.begin() + static_cast<std::ptrdiff_t>(k * n), v.data.begin() + static_cast<std::ptrdiff_t>((k + 1) * n));
  return out;
}
}  // namespace

Case3d preprocess_case(const LoadedCase& c, const LabelScheme& scheme, const Preprocess3d& p) {
  Case3d out;
  out.id = c.info.id;
  Volume img = stack_channels(c);
  img.datatype = "float32";
  if (p.norm == VolumeNorm::ZScoreNonzero) img = zscore_nonzero(img);
  if (p.norm == VolumeNorm::CtClip) {
    img = ct_clip_scale(img, p.ct_lo, p.ct_hi, p.ct_divisor);
    out.background = static_cast<float>(p.ct_lo / p.ct_divisor);
  }
  if (c.has_label) {
    out.original_label = c.label;
    out.label = labels_to_classes(c.label, scheme, c.info.label_path.empty() ? c.info.id : c.info.label_path);
    out.has_label = true;
  }
  if (p.spacing_mm > 0) {
    const std::array<double, 3> s{p.spacing_mm, p.spacing_mm, p.spacing_mm};
    if (img.channels == 1) {
      img = resample_to_spacing(img, s, Interp::Linear);
    } else {
      Volume r;
      for (int64_t k = 0; k < img.channels; ++k) {
        Volume ch = resample_to_spacing(channel(img, k), s, Interp::Linear);
        if (k == 0) r = ch, r.data.clear(), r.channels = 0;
        r.data.insert(r.data.end(), ch.data.begin(), ch.data.end());
        ++r.channels;
      }
      img = std::move(r);
    }
    if (out.has_label) out.label = resample_to_spacing(out.label, s, Interp::Nearest);
  }
  out.image = std::move(img);
  if (out.has_label) {
    out.class_voxels.assign(static_cast<size_t>(std::max(0, scheme.classes() - 1)), {});
    for (size_t i = 0; i < out.label.data.size(); ++i) {
      const int k = static_cast<int>(out.label.data[i]);
      if (k > 0) out.class_voxels[static_cast<size_t>(k - 1)].push_back(static_cast<int32_t>(i));
    }
  }
  return out;
}

Case3d phantom_case(const std::string& dataset, uint64_t seed, int index, int64_t size, const LabelScheme& scheme,
                    const Preprocess3d& p) {
  LoadedCase lc;
  char id[64];
  if (dataset == "brats19") {
    BratsCase b = make_brats_case(seed, index, size);
    std::snprintf(id, sizeof id, "BraTS19_PH_%03d_1", index);
    for (auto& v : b.images) lc.images.push_back(std::move(v));
    lc.label = std::move(b.labels);
  } else if (dataset == "kits19") {
    auto [ct, gt] = make_kits_case(seed, index, size);
    std::snprintf(id, sizeof id, "case_%05d", index);
    lc.images.push_back(std::move(ct));
    lc.label = std::move(gt);
  } else {
    throw std::runtime_error("phantom_case: no 3-D phantom '" + dataset + "' (brats19 or kits19)");
  }
  lc.info.id = lc.info.patient = id;
  lc.info.dataset = dataset;
  lc.has_label = true;
  return preprocess_case(lc, scheme, p);
}

CaseStore::CaseStore(std::vector<Case> cases, LabelScheme scheme, Preprocess3d pre, int64_t max_bytes)
    : cases_(std::move(cases)), scheme_(std::move(scheme)), pre_(pre), max_bytes_(max_bytes) {
  for (const auto& c : cases_) ids_.push_back(c.id);
}

CaseStore::CaseStore(std::vector<Case3d> cases, LabelScheme scheme, Preprocess3d pre)
    : scheme_(std::move(scheme)), pre_(pre), max_bytes_(0) {
  for (size_t i = 0; i < cases.size(); ++i) {
    ids_.push_back(cases[i].id);
    held_[i] = std::make_shared<const Case3d>(std::move(cases[i]));
    lru_.push_back(i);
  }
}

std::shared_ptr<const Case3d> CaseStore::get(size_t i) {
  if (i >= ids_.size()) throw std::out_of_range("CaseStore: case " + std::to_string(i) + " of " + std::to_string(ids_.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = held_.find(i);
    if (it != held_.end()) {
      lru_.erase(std::find(lru_.begin(), lru_.end(), i));
      lru_.push_back(i);
      return it->second;
    }
  }
  auto c = std::make_shared<const Case3d>(preprocess_case(load_case(cases_[i]), scheme_, pre_));
  std::lock_guard<std::mutex> lock(mu_);
  held_[i] = c;
  lru_.erase(std::remove(lru_.begin(), lru_.end(), i), lru_.end());
  lru_.push_back(i);
  if (max_bytes_ > 0) {
    int64_t total = 0;
    for (const auto& [k, v] : held_) total += v->bytes();
    while (total > max_bytes_ && lru_.size() > 1) {
      const size_t old = lru_.front();
      lru_.erase(lru_.begin());
      total -= held_[old]->bytes();
      held_.erase(old);
    }
  }
  return c;
}

size_t CaseStore::held() {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

int64_t CaseStore::in_channels() { return size() ? get(0)->image.channels : 0; }

}  // namespace seg
