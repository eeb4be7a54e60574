// Paper 3's data (see data.h).
#include "apps/paper3/data.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "data/datasets/datasets.h"
#include "data/phantoms/phantom_random.h"
#include "engine/error.h"

namespace seg {

std::vector<Structure> paper3_structures(const LabelScheme& scheme) {
  std::vector<Structure> r;
  for (const auto& reg : scheme.regions) r.push_back({reg.name, reg.classes});
  return r;
}

Paper3Data load_paper3_data(const Paper3DataOptions& o) {
  SEG_CHECK(o.table == 1 || o.table == 2, "paper 3 data: table must be 1 (BraTS) or 2 (KiTS), got ", o.table);
  SEG_CHECK(o.train_fraction > 0 && o.train_fraction < 1, "paper 3 data: the training fraction must be in (0, 1)");
  const bool brats = o.table == 1;
  Paper3Data d;
  d.scheme = brats ? brats_scheme() : kits_scheme();
  d.pre.norm = brats ? VolumeNorm::ZScoreNonzero : VolumeNorm::CtClip;
  d.pre.spacing_mm = o.spacing_mm;
  std::vector<Case> cases;
  if (o.data_dir.empty()) {
    SEG_CHECK(o.phantom_cases >= 2, "paper 3 data: at least 2 phantom cases (one to train, one to validate)");
    const int64_t size = o.phantom_size > 0 ? o.phantom_size : (brats ? 48 : 64);
    std::vector<Case3d> made;
    for (int i = 0; i < o.phantom_cases; ++i) {
      Case3d c = phantom_case(brats ? "brats19" : "kits19", o.seed, i, size, d.scheme, d.pre);
      if (o.phantom_noise > 0) {
        const uint64_t stream = splitmix64(o.seed * 7919 + static_cast<uint64_t>(i) + 0xE6Cull);
        for (size_t v = 0; v < c.image.data.size(); ++v)
          if (c.image.data[v] != c.background)
            c.image.data[v] += static_cast<float>(o.phantom_noise * phantom_normal(stream, v));
      }
      cases.push_back(Case{c.id, {}, "", c.id, brats ? "brats19" : "kits19"});
      made.push_back(std::move(c));
    }
    std::ostringstream s;
    s.precision(3);
    s << "phantom (" << o.phantom_cases << " " << (brats ? "BraTS-like" : "KiTS-like") << " cases, seed " << o.seed
      << ", " << made[0].original_label.dims[0] << "×" << made[0].original_label.dims[1] << "×"
      << made[0].original_label.dims[2] << " voxels of " << made[0].original_label.spacing[0] << "×"
      << made[0].original_label.spacing[1] << "×" << made[0].original_label.spacing[2] << " mm";
    if (o.phantom_noise > 0) s << ", noise σ " << o.phantom_noise;
    s << ")";
    d.source = s.str();
    d.store = std::make_unique<CaseStore>(std::move(made), d.scheme, d.pre);
  } else {
    namespace fs = std::filesystem;
    std::string layout;
    if (brats && fs::exists(fs::path(o.data_dir) / "dataset.json")) {
      layout = "msd";
      d.scheme = msd_brats_scheme((fs::path(o.data_dir) / "dataset.json").string());
    } else {
      layout = brats ? "brats19" : "kits19";
    }
    cases = list_cases(layout, o.data_dir);
    d.source = o.data_dir + " (" + layout + " layout, " + std::to_string(cases.size()) + " cases; " + d.scheme.name + ")";
    d.store = std::make_unique<CaseStore>(cases, d.scheme, d.pre, o.max_memory_mb * 1048576);
  }
  const auto parts = split_by_patient(cases, {o.train_fraction, 1 - o.train_fraction}, o.seed);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < d.store->size(); ++i) index[d.store->id(i)] = i;
  for (const auto& c : parts[0]) d.train.push_back(index.at(c.id));
  for (const auto& c : parts[1]) d.val.push_back(index.at(c.id));
  SEG_CHECK(!d.train.empty() && !d.val.empty(), "paper 3 data: the split left no training or no validation case (",
            cases.size(), " cases)");
  d.channels = d.store->in_channels();
  SEG_CHECK(d.channels == (brats ? 4 : 1), "paper 3 data: ", brats ? "BraTS needs 4 modalities" : "KiTS needs 1 CT channel",
            ", the first case has ", d.channels);
  d.structures = paper3_structures(d.scheme);
  return d;
}

}  // namespace seg
