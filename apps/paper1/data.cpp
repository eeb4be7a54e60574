// Paper 1's data (see data.h).
#include "apps/paper1/data.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "data/datasets/datasets.h"
#include "data/phantoms/acdc_phantom.h"
#include "data/phantoms/segthor_phantom.h"

namespace seg {

Paper1Dataset parse_paper1_dataset(const std::string& s) {
  if (s == "segthor") return Paper1Dataset::SegTHOR;
  if (s == "acdc") return Paper1Dataset::ACDC;
  throw std::runtime_error("dataset: expected segthor or acdc, got '" + s + "'");
}
const char* paper1_dataset_name(Paper1Dataset d) { return d == Paper1Dataset::SegTHOR ? "segthor" : "acdc"; }
const char* paper1_organ(Paper1Dataset d) { return d == Paper1Dataset::SegTHOR ? "heart" : "LV"; }
int paper1_source_label(Paper1Dataset d) { return d == Paper1Dataset::SegTHOR ? 2 : 3; }
std::array<double, 2> paper1_bounds_256(Paper1Dataset d) {
  return d == Paper1Dataset::SegTHOR ? std::array<double, 2>{210, 7800} : std::array<double, 2>{97.9, 1722};
}

namespace {

SliceSet to_slices(const std::string& id, const Volume& image, const Volume& labels, Paper1Dataset d, int64_t S) {
  return make_slice_set(id, {image}, labels, {{paper1_source_label(d), 1}}, 2, S, S, Normalisation::MinMaxVolume);
}

// Phantom cases: SegTHOR-like CT patients, or ACDC-like patients with their ED and ES frames (patient ids as the
// layout names them, so the splitter groups the frames of a patient).
std::vector<Case> phantom_cases(const Paper1DataOptions& opt) {
  std::vector<Case> cases;
  for (int p = 0; p < opt.phantom_patients; ++p) {
    char id[32];
    if (opt.dataset == Paper1Dataset::SegTHOR) {
      std::snprintf(id, sizeof id, "Patient_%02d", p + 1);
      cases.push_back({id, {}, "", id, "phantom"});
    } else {
      std::snprintf(id, sizeof id, "patient%03d", p + 1);
      for (const char* f : {"ED", "ES"}) cases.push_back({std::string(id) + "_" + f, {}, "", id, "phantom"});
    }
  }
  return cases;
}

SliceSet load_phantom_case(const Case& c, const Paper1DataOptions& opt, int patient_index) {
  if (opt.dataset == Paper1Dataset::SegTHOR) {
    SegthorPhantomOptions po = segthor_phantom_options_for_size(opt.size);
    po.spacing_z = opt.phantom_slice_mm;
    auto [ct, gt] = make_segthor_patient(opt.seed, patient_index, po);
    return to_slices(c.id, ct, gt, opt.dataset, opt.size);
  }
  AcdcPhantomOptions ao;
  ao.nx = std::max<int64_t>(opt.size, std::min<int64_t>(2 * opt.size, 256));  // the field of view is kept; resized to S
  const bool es = c.id.size() > 3 && c.id.substr(c.id.size() - 2) == "ES";
  auto [img, gt] = make_acdc_frame(opt.seed, patient_index, es, ao);
  return to_slices(c.id, img, gt, opt.dataset, opt.size);
}

}  // namespace

Paper1Data load_paper1_data(const Paper1DataOptions& opt) {
  SEG_CHECK(opt.size >= 16 && opt.size % 16 == 0, "--size must be a positive multiple of 16 (four 2×2 poolings), got ", opt.size);
  Paper1Data out;
  const bool phantom = opt.data_dir.empty();
  std::vector<Case> cases;
  if (phantom) {
    SEG_CHECK(opt.phantom_patients >= 2, "--patients must be at least 2, got ", opt.phantom_patients);
    SEG_CHECK(opt.phantom_slice_mm > 0, "--phantom-slice-mm must be positive");
    cases = phantom_cases(opt);
    out.source = std::string(opt.dataset == Paper1Dataset::SegTHOR ? "SegTHOR" : "ACDC") + "-like phantom (seed " +
                 std::to_string(opt.seed) + ", " + std::to_string(opt.phantom_patients) + " patients)";
  } else {
    cases = list_cases(paper1_dataset_name(opt.dataset), opt.data_dir);
    out.source = opt.data_dir;
  }
  std::set<std::string> patients;
  for (const auto& c : cases) patients.insert(c.patient.empty() ? c.id : c.patient);
  const int64_t n = static_cast<int64_t>(patients.size());
  std::vector<std::vector<Case>> parts;
  if (opt.dataset == Paper1Dataset::SegTHOR) {
    const int64_t val = opt.val_patients > 0 ? opt.val_patients : n - opt.train_patients;
    SEG_CHECK(opt.train_patients > 0 && val > 0 && opt.train_patients + val <= n, out.source, ": ", n,
              " patients, but the split asks for ", opt.train_patients, " training + ", val, " validation patients");
    parts = split_by_patient_counts(cases, {opt.train_patients, val}, opt.seed);
  } else {
    SEG_CHECK(opt.train_fraction > 0 && opt.train_fraction < 1, "the training fraction must be in (0, 1)");
    SEG_CHECK(n >= 2, out.source, ": ACDC needs at least 2 patients, found ", n);
    parts = split_by_patient(cases, {opt.train_fraction, 1.0 - opt.train_fraction}, opt.seed);
  }
  std::set<std::string> used;
  std::map<std::string, int> patient_index;  // phantom: patient number from the id order
  {
    int i = 0;
    for (const auto& p : patients) patient_index[p] = i++;
  }
  for (int part = 0; part < 2; ++part)
    for (const auto& c : parts[static_cast<size_t>(part)]) {
      used.insert(c.patient.empty() ? c.id : c.patient);
      SliceSet s;
      if (phantom) {
        s = load_phantom_case(c, opt, patient_index.at(c.patient.empty() ? c.id : c.patient));
      } else {
        LoadedCase lc = load_case(c);
        SEG_CHECK(lc.has_label, c.id, ": no ground truth found (", c.image_paths.at(0), ")");
        s = to_slices(c.id, lc.images.at(0), lc.label, opt.dataset, opt.size);
      }
      (part == 0 ? out.train : out.val).push_back(std::move(s));
    }
  for (const auto& p : patients)
    if (!used.count(p)) out.left_out.push_back(p);
  SEG_CHECK(!out.train.empty() && !out.val.empty(), out.source, ": the split left no training or no validation case");
  out.bounds = opt.bounds ? *opt.bounds : class_area_bounds(out.train, 1);
  out.bounds_source = opt.bounds ? "given" : "training ground truth";
  for (size_t i = 0; i < out.train.size(); ++i) {
    add_weak_seeds(out.train[i], 1, opt.seed * 1000003ull + i);
    set_size_bounds(out.train[i], 1, out.bounds);
    out.train_slices += out.train[i].slices;
  }
  for (auto& s : out.val) set_size_bounds(s, 1, out.bounds);
  return out;
}

}  // namespace seg
