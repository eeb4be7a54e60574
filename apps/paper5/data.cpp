// Paper 5's data (see data.h).
#include "apps/paper5/data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "data/datasets/datasets.h"
#include "data/phantoms/acdc_phantom.h"
#include "data/phantoms/promise12_phantom.h"
#include "engine/error.h"

namespace seg {

Paper5Dataset parse_paper5_dataset(const std::string& s) {
  if (s == "acdc") return Paper5Dataset::ACDC;
  if (s == "promise12") return Paper5Dataset::PROMISE12;
  fail("--dataset: expected acdc or promise12, got '", s, "'");
}
const char* paper5_dataset_name(Paper5Dataset d) { return d == Paper5Dataset::ACDC ? "acdc" : "promise12"; }
int64_t paper5_classes(Paper5Dataset d) { return d == Paper5Dataset::ACDC ? 4 : 2; }
std::vector<std::string> paper5_class_names(Paper5Dataset d) {
  if (d == Paper5Dataset::ACDC) return {"background", "RV", "Myo", "LV"};
  return {"background", "prostate"};
}
std::array<int64_t, 3> paper5_split(Paper5Dataset d) {
  return d == Paper5Dataset::ACDC ? std::array<int64_t, 3>{70, 10, 20} : std::array<int64_t, 3>{35, 5, 10};
}

Augmentation paper5_augmentation(int64_t size) {
  Augmentation a;
  a.enabled = true;
  a.config = no_augmentation();
  a.config.p_blur = 0.5;
  a.config.min_sigma = 0.5;
  a.config.max_sigma = 2.0;
  a.config.p_rotate = 0.5;
  a.config.max_angle_deg = 30;
  a.config.p_scale = 0.5;
  a.config.min_scale = 0.8;
  a.config.max_scale = 1.2;
  a.config.p_shift = 0.5;
  a.config.max_shift_px = 20.0 * static_cast<double>(size) / 256.0;
  return a;
}

namespace {

LabelMap label_map(Paper5Dataset d) {
  if (d == Paper5Dataset::ACDC) return {{1, 1}, {2, 2}, {3, 3}};
  return {{1, 1}};
}

SliceSet to_slices(const std::string& id, const Volume& image, const Volume& labels, Paper5Dataset d, int64_t S) {
  return make_slice_set(id, {image}, labels, label_map(d), paper5_classes(d), S, S, Normalisation::MinMaxVolume);
}

// Phantom cases named as the layouts name them, so the splitter groups an ACDC patient's two frames.
std::vector<Case> phantom_cases(const Paper5DataOptions& opt) {
  std::vector<Case> cases;
  for (int p = 0; p < opt.phantom_patients; ++p) {
    char id[32];
    if (opt.dataset == Paper5Dataset::ACDC) {
      std::snprintf(id, sizeof id, "patient%03d", p + 1);
      for (const char* f : {"ED", "ES"}) cases.push_back({std::string(id) + "_" + f, {}, "", id, "phantom"});
    } else {
      std::snprintf(id, sizeof id, "Case%02d", p);
      cases.push_back({id, {}, "", id, "phantom"});
    }
  }
  return cases;
}

SliceSet load_phantom_case(const Case& c, const Paper5DataOptions& opt, int patient_index) {
  // drawn on a grid of up to 2S (the field of view is kept), then resized to S like real data
  const int64_t grid = std::max<int64_t>(opt.size, std::min<int64_t>(2 * opt.size, 256));
  if (opt.dataset == Paper5Dataset::ACDC) {
    const bool es = c.id.size() > 3 && c.id.substr(c.id.size() - 2) == "ES";
    auto [img, gt] = make_acdc_frame(opt.seed, patient_index + 1, es, {.nx = grid});
    return to_slices(c.id, img, gt, opt.dataset, opt.size);
  }
  auto [img, gt] = make_promise12_case(opt.seed, patient_index, grid);
  return to_slices(c.id, img, gt, opt.dataset, opt.size);
}

// The paper's proportions for n patients: at least one validation and one test patient, the rest for training.
std::array<int64_t, 3> scaled_split(std::array<int64_t, 3> paper, int64_t n) {
  const double total = static_cast<double>(paper[0] + paper[1] + paper[2]);
  const int64_t val = std::max<int64_t>(1, std::llround(static_cast<double>(n * paper[1]) / total));
  const int64_t test = std::max<int64_t>(1, std::llround(static_cast<double>(n * paper[2]) / total));
  return {n - val - test, val, test};
}

}  // namespace

Paper5Data load_paper5_data(const Paper5DataOptions& opt) {
  SEG_CHECK(opt.size >= 16 && opt.size % 16 == 0, "--size must be a positive multiple of 16 (the residual U-Net pools "
            "four times, ENet three), got ", opt.size);
  Paper5Data out;
  const bool phantom = opt.data_dir.empty();
  std::vector<Case> cases;
  if (phantom) {
    SEG_CHECK(opt.phantom_patients >= 3, "--patients must be at least 3 (training, validation, test), got ",
              opt.phantom_patients);
    cases = phantom_cases(opt);
    out.source = std::string(opt.dataset == Paper5Dataset::ACDC ? "ACDC" : "PROMISE12") + "-like phantom (seed " +
                 std::to_string(opt.seed) + ", " + std::to_string(opt.phantom_patients) + " patients)";
  } else {
    for (Case& c : list_cases(paper5_dataset_name(opt.dataset), opt.data_dir)) {
      if (c.label_path.empty()) {  // PROMISE12's challenge test cases ship no segmentation
        out.left_out.push_back(c.id + " (no segmentation)");
        continue;
      }
      cases.push_back(std::move(c));
    }
    out.source = opt.data_dir;
  }
  std::set<std::string> patients;
  for (const auto& c : cases) patients.insert(c.patient.empty() ? c.id : c.patient);
  const int64_t n = static_cast<int64_t>(patients.size());
  std::array<int64_t, 3> split = opt.split;
  if (split[0] + split[1] + split[2] == 0) {
    split = paper5_split(opt.dataset);
    if (n < split[0] + split[1] + split[2]) split = scaled_split(split, n);  // a phantom or a smaller folder
  }
  SEG_CHECK(split[0] > 0 && split[1] > 0 && split[2] > 0 && split[0] + split[1] + split[2] <= n, out.source, ": ", n,
            " patients, but the split asks for ", split[0], " training + ", split[1], " validation + ", split[2],
            " test patients (at least 3 patients are needed)");
  const std::vector<std::vector<Case>> parts = split_by_patient_counts(cases, {split[0], split[1], split[2]}, opt.seed);
  out.patients = split;
  std::map<std::string, int> patient_index;
  {
    int i = 0;
    for (const auto& p : patients) patient_index[p] = i++;
  }
  std::set<std::string> used;
  for (int part = 0; part < 3; ++part)
    for (const auto& c : parts[static_cast<size_t>(part)]) {
      const std::string pid = c.patient.empty() ? c.id : c.patient;
      used.insert(pid);
      SliceSet s;
      if (phantom) {
        s = load_phantom_case(c, opt, patient_index.at(pid));
      } else {
        LoadedCase lc = load_case(c);
        SEG_CHECK(lc.has_label, c.id, ": no ground truth found (", c.image_paths.at(0), ")");
        s = to_slices(c.id, lc.images.at(0), lc.label, opt.dataset, opt.size);
      }
      (part == 0 ? out.train : part == 1 ? out.val : out.test).push_back(std::move(s));
    }
  for (const auto& p : patients)
    if (!used.count(p)) out.left_out.push_back(p + " (beyond the split's " + std::to_string(split[0] + split[1] + split[2]) + " patients)");
  for (const auto& s : out.train) out.train_slices += s.slices;
  // classes that occur nowhere in the data set
  const int64_t K = paper5_classes(opt.dataset);
  for (int k = 1; k < K; ++k) {
    bool found = false;
    for (const auto* sets : {&out.train, &out.val, &out.test})
      for (const auto& s : *sets)
        for (int64_t z = 0; z < s.slices && !found; ++z) found = s.has_class(z, k);
    if (!found) out.absent.push_back(k);
  }
  return out;
}

}  // namespace seg
