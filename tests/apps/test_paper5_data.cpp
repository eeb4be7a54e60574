// Paper 5's data (apps/paper5/data.h): the paper's splits scaled to a phantom (disjoint by patient, both ACDC frames of a
// patient on one side), 4 / 2 classes at S², the paper's augmentation; and the data against the loss's assumptions:
// the ACDC phantom and real short-axis cine MRI (Sunnybrook, ACDC label ids, no RV; skipped when ../shared is absent)
// satisfy the paper's anatomical priors at 256² (the myocardium's centroid within the ±20 px margin of the LV's,
// 2 ≤ L(Myo)/L(LV) ≤ 3), and a class absent from a data set gets bounds [0, 0] on size and length and no
// centroid/distance term on every slice.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "apps/paper5/data.h"
#include "data/formats/image_io.h"
#include "data/phantoms/acdc_phantom.h"
#include "losses/descriptor_loss.h"

using namespace seg;

namespace {

struct PriorStats {
  int slices_with_both = 0, ratio_in_range = 0, centroid_within = 0;
  double ratio_min = 1e9, ratio_max = 0, centroid_max = 0;
  int rv_slices = 0;
};

// Slices of a label volume (x fastest, as Volume stores it) → the prior statistics of paper 5 on each slice.
void add_volume(const Volume& lab, PriorStats& st) {
  const int64_t nx = lab.nx(), ny = lab.ny();
  std::vector<int64_t> l(static_cast<size_t>(nx * ny));
  for (int64_t z = 0; z < lab.nz(); ++z) {
    for (int64_t i = 0; i < nx * ny; ++i) l[static_cast<size_t>(i)] = static_cast<int64_t>(lab.data[static_cast<size_t>(z * nx * ny + i)]);
    const SliceDescriptors d = label_descriptors(l.data(), ny, nx, 4);
    if (d.size[1] > 0) ++st.rv_slices;
    if (d.size[2] == 0 || d.size[3] == 0) continue;
    ++st.slices_with_both;
    const double r = d.length[2] / d.length[3], dc = std::hypot(d.cx[2] - d.cx[3], d.cy[2] - d.cy[3]);
    st.ratio_min = std::min(st.ratio_min, r);
    st.ratio_max = std::max(st.ratio_max, r);
    st.centroid_max = std::max(st.centroid_max, dc);
    st.ratio_in_range += r >= 2 && r <= 3;
    st.centroid_within += dc < 20;
  }
}

std::string sunnybrook_dir() {
  return (std::filesystem::path(SEG_SHARED_DIR) / "data" / "real" / "sunnybrook_cine_mri_lv" / "derived_nifti").string();
}

}  // namespace

TEST(Paper5Data, AcdcPhantomSatisfiesThePapersPriorsAt256) {
  PriorStats st;
  for (int patient = 1; patient <= 8; ++patient)
    for (bool es : {false, true}) add_volume(make_acdc_frame(0, patient, es, {.nx = 256}).second, st);
  ASSERT_GT(st.slices_with_both, 100);
  EXPECT_GT(st.rv_slices, 50);
  // every myocardium centroid lies within the ±20 px margin around the LV's (τ_C(Myo) = τ_C(LV) is feasible)
  EXPECT_EQ(st.centroid_within, st.slices_with_both) << "max distance " << st.centroid_max;
  // the length ratio: within [2, 3] on most slices (a tiny apical cavity inside its myocardial cap goes above)
  EXPECT_GE(st.ratio_in_range, 0.85 * st.slices_with_both) << "ratio range [" << st.ratio_min << ", " << st.ratio_max << "]";
  EXPECT_GT(st.ratio_min, 1.8);
}

TEST(Paper5Data, RealCineMriSatisfiesThePriorsAndHasNoRv) {
  if (!std::filesystem::exists(sunnybrook_dir()))
    GTEST_SKIP() << "real sample folder " << sunnybrook_dir() << " is absent (../shared)";
  PriorStats st;
  int volumes = 0;
  for (const auto& e : std::filesystem::directory_iterator(sunnybrook_dir())) {
    const std::string name = e.path().filename().string();
    if (name.find("_label.nii.gz") == std::string::npos) continue;
    const Volume lab = read_image(e.path().string());
    ASSERT_EQ(lab.nx(), 256);
    ASSERT_EQ(lab.ny(), 256);
    add_volume(lab, st);
    ++volumes;

    // RV (label 1) never occurs: every slice gets [0, 0] on its size and length and no centroid/distance term
    std::vector<int64_t> lv(static_cast<size_t>(lab.voxels()));
    for (size_t i = 0; i < lv.size(); ++i) lv[i] = static_cast<int64_t>(lab.data[i]);
    // (N, H, W): slices of 256 × 256 (rows = y)
    const Tensor labels = Tensor::from_labels(lv, {lab.nz(), lab.ny(), lab.nx()});
    const DescriptorBounds b = descriptor_bounds(labels, 4, paper5_descriptor_config("acdc"));
    const auto size = b.size.to_vector(), len = b.length.to_vector(), present = b.present.to_vector();
    for (int64_t z = 0; z < lab.nz(); ++z) {
      EXPECT_EQ(present[static_cast<size_t>(z * 3)], 0) << name << " slice " << z;
      EXPECT_EQ(size[static_cast<size_t>(z * 6)], 0);
      EXPECT_EQ(size[static_cast<size_t>(z * 6 + 1)], 0);
      EXPECT_EQ(len[static_cast<size_t>(z * 6 + 1)], 0);
    }
  }
  ASSERT_EQ(volumes, 4);
  EXPECT_EQ(st.rv_slices, 0);
  ASSERT_GT(st.slices_with_both, 30);
  EXPECT_EQ(st.centroid_within, st.slices_with_both) << "max distance " << st.centroid_max;
  EXPECT_GE(st.ratio_in_range, 0.9 * st.slices_with_both) << "ratio range [" << st.ratio_min << ", " << st.ratio_max << "]";
  EXPECT_GT(st.ratio_min, 1.9);
  EXPECT_LT(st.ratio_max, 3.0);
}

TEST(Paper5Data, PhantomSplitsInThePapersProportionsByPatient) {
  Paper5DataOptions o;
  o.dataset = Paper5Dataset::ACDC;
  o.size = 32;
  o.phantom_patients = 10;  // 70/10/20 of 10 patients: 7 / 1 / 2
  const Paper5Data d = load_paper5_data(o);
  EXPECT_EQ(d.patients, (std::array<int64_t, 3>{7, 1, 2}));
  EXPECT_EQ(d.train.size(), 14u);  // ED and ES frames
  EXPECT_EQ(d.val.size(), 2u);
  EXPECT_EQ(d.test.size(), 4u);
  EXPECT_TRUE(d.absent.empty());
  std::set<std::string> seen;
  for (const auto* part : {&d.train, &d.val, &d.test}) {
    std::set<std::string> here;
    for (const SliceSet& s : *part) {
      EXPECT_EQ(s.classes, 4);
      EXPECT_EQ(s.height, 32);
      EXPECT_EQ(s.width, 32);
      here.insert(s.id.substr(0, s.id.find('_')));  // patientXXX
    }
    for (const auto& p : here) EXPECT_TRUE(seen.insert(p).second) << p << " is in two splits";
  }
  int classes_seen = 0;
  for (int k = 1; k < 4; ++k) {
    bool found = false;
    for (const SliceSet& s : d.train)
      for (int64_t z = 0; z < s.slices && !found; ++z) found = s.has_class(z, k);
    classes_seen += found;
  }
  EXPECT_EQ(classes_seen, 3);
  Paper5DataOptions p = o;
  p.dataset = Paper5Dataset::PROMISE12;  // 35/5/10 of 10 patients: 7 / 1 / 2
  const Paper5Data q = load_paper5_data(p);
  EXPECT_EQ(q.patients, (std::array<int64_t, 3>{7, 1, 2}));
  ASSERT_FALSE(q.train.empty());
  EXPECT_EQ(q.train[0].classes, 2);
  EXPECT_THROW(load_paper5_data([&] { auto b = o; b.size = 40; return b; }()), std::exception);
  EXPECT_THROW(load_paper5_data([&] { auto b = o; b.phantom_patients = 2; return b; }()), std::exception);
}

TEST(Paper5Data, AugmentationIsThePapers) {
  const Augmentation a = paper5_augmentation(64);
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.config.p_blur, 0.5);
  EXPECT_EQ(a.config.min_sigma, 0.5);
  EXPECT_EQ(a.config.max_sigma, 2.0);
  EXPECT_EQ(a.config.p_rotate, 0.5);
  EXPECT_EQ(a.config.max_angle_deg, 30);
  EXPECT_EQ(a.config.p_scale, 0.5);
  EXPECT_EQ(a.config.min_scale, 0.8);
  EXPECT_EQ(a.config.max_scale, 1.2);
  EXPECT_EQ(a.config.p_shift, 0.5);
  EXPECT_DOUBLE_EQ(a.config.max_shift_px, 5.0);  // ±20 px at 256²
  EXPECT_EQ(a.config.p_mirror, 0);
  EXPECT_EQ(a.config.p_flip, 0);
}
