// SegTHOR heart data (see segthor_data.h).
#include "apps/common/segthor_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "data/datasets/datasets.h"
#include "data/phantoms/segthor_phantom.h"
#include "data/transforms/weak_labels.h"
#include "engine/autograd.h"
#include "engine/rng.h"
#include "kernels/upsample.h"

namespace seg {

SliceSet make_slice_set(const std::string& id, const Volume& image, const Volume& labels, int organ_label, int64_t S) {
  SEG_CHECK(image.dims == labels.dims, "patient ", id, ": image dims ", image.nx(), "x", image.ny(), "x", image.nz(),
            " differ from label dims ", labels.nx(), "x", labels.ny(), "x", labels.nz());
  const int64_t nx = image.nx(), ny = image.ny(), nz = image.nz();
  const auto [mn_it, mx_it] = std::minmax_element(image.data.begin(), image.data.end());
  const float mn = *mn_it, range = std::max(*mx_it - *mn_it, 1e-6f);
  Tensor img = Tensor::empty({nz, 1, ny, nx}), lab = Tensor::empty({nz, 1, ny, nx});
  float* ip = img.data<float>();
  float* lp = lab.data<float>();
  for (size_t i = 0; i < image.data.size(); ++i) {
    ip[i] = (image.data[i] - mn) / range;
    lp[i] = std::lround(labels.data[i]) == organ_label ? 1.f : 0.f;
  }
  NoGradGuard ng;
  Tensor ri = upsample_bilinear2d(img, S, S, false), rl = upsample_nearest2d(lab, S, S);
  SliceSet s;
  s.id = id;
  s.size = S;
  s.slices = nz;
  s.spacing = {image.spacing[0] * static_cast<double>(nx) / static_cast<double>(S),
               image.spacing[1] * static_cast<double>(ny) / static_cast<double>(S), image.spacing[2]};
  s.image.assign(ri.data<float>(), ri.data<float>() + ri.numel());
  s.mask.resize(static_cast<size_t>(rl.numel()));
  for (int64_t i = 0; i < rl.numel(); ++i) s.mask[static_cast<size_t>(i)] = rl.data<float>()[i] > 0.5f;
  s.bounds.assign(static_cast<size_t>(nz), {0.0, 0.0});
  return s;
}

namespace {
// The organ mask of a slice set as a label volume (x-fastest: x + S·(y + S·z), the slice layout too).
Volume mask_volume(const SliceSet& s) {
  Volume v = Volume::make({s.size, s.size, s.slices}, s.spacing);
  for (size_t i = 0; i < s.mask.size(); ++i) v.data[i] = s.mask[i];
  return v;
}
}  // namespace

void add_weak_seeds(SliceSet& s, uint64_t seed, double diameter) {
  const Volume seeds = weak_seed_labels(mask_volume(s), 1, seed, diameter);
  s.seeds.resize(seeds.data.size());
  for (size_t i = 0; i < seeds.data.size(); ++i) s.seeds[i] = seeds.data[i] != 0.f;
}

std::array<double, 2> organ_area_bounds(const std::vector<SliceSet>& sets) {
  std::vector<Volume> vols;
  for (const auto& s : sets) vols.push_back(mask_volume(s));
  std::vector<const Volume*> ptrs;
  for (const auto& v : vols) ptrs.push_back(&v);
  const auto b = size_bounds(ptrs, 1, 0);
  SEG_CHECK(b[1] > 0, "size bounds: no training slice contains the organ");
  return b;
}

void set_size_bounds(SliceSet& s, const std::array<double, 2>& b) {
  for (int64_t z = 0; z < s.slices; ++z) s.bounds[static_cast<size_t>(z)] = s.has_organ(z) ? b : std::array<double, 2>{0, 0};
}

SegthorSplit load_segthor(const SegthorDataOptions& opt) {
  SegthorSplit out;
  std::vector<SliceSet> all;
  if (opt.data_dir.empty()) {
    SEG_CHECK(opt.phantom_patients > opt.train_patients && opt.train_patients > 0, "--patients (", opt.phantom_patients,
              ") must exceed --train-patients (", opt.train_patients, ") > 0");
    SegthorPhantomOptions po = segthor_phantom_options_for_size(opt.size);
    SEG_CHECK(opt.phantom_slice_mm > 0, "--phantom-slice-mm must be positive");
    po.spacing_z = opt.phantom_slice_mm;
    for (int p = 0; p < opt.phantom_patients; ++p) {
      auto [ct, gt] = make_segthor_patient(opt.seed, p, po);
      char id[32];
      std::snprintf(id, sizeof id, "Patient_%02d", p + 1);
      all.push_back(make_slice_set(id, ct, gt, opt.heart_label, opt.size));
    }
    out.source = "phantom (seed " + std::to_string(opt.seed) + ", " + std::to_string(opt.phantom_patients) + " patients)";
  } else {
    const std::vector<Case> cases = list_cases("segthor", opt.data_dir);
    SEG_CHECK(static_cast<int>(cases.size()) > opt.train_patients, opt.data_dir, ": ", cases.size(),
              " patients found, need more than --train-patients ", opt.train_patients);
    for (const auto& c : cases) {
      LoadedCase lc = load_case(c);
      SEG_CHECK(lc.has_label, c.id, ": no ground truth (GT.nii.gz) found");
      all.push_back(make_slice_set(c.id, lc.images.at(0), lc.label, opt.heart_label, opt.size));
    }
    out.source = opt.data_dir;
  }
  // split by patient with the seed
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), size_t(0));
  Generator g(opt.seed ^ 0x5EC7u);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(g.randint(static_cast<int64_t>(i)))]);
  for (size_t i = 0; i < order.size(); ++i)
    (static_cast<int>(i) < opt.train_patients ? out.train : out.val).push_back(std::move(all[order[i]]));
  out.bounds = opt.bounds ? *opt.bounds : organ_area_bounds(out.train);
  for (size_t i = 0; i < out.train.size(); ++i) {
    add_weak_seeds(out.train[i], opt.seed * 1000003ull + i);
    set_size_bounds(out.train[i], out.bounds);
    out.train_slices += out.train[i].slices;
  }
  for (auto& s : out.val) set_size_bounds(s, out.bounds);
  return out;
}

}  // namespace seg
