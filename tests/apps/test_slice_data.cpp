// From volumes to training slices (apps/toolkit/slice_data.h): min–max normalisation, resizing, labels mapped to
// classes, weak seeds (4-px discs inside the organ, one per organ slice, seeded), size bounds from the ground truth and
// [0, 0] on slices without the organ; the sampler's augmentation moves image, labels and seeds together, refuses a
// mirror on left/right labels, and is deterministic per (seed, epoch).
#include <gtest/gtest.h>

#include <algorithm>

#include "apps/toolkit/slice_data.h"
#include "data/phantoms/segthor_phantom.h"

using namespace seg;

namespace {
SliceSet tiny_patient(int patient, int64_t S = 32) {
  SegthorPhantomOptions o;
  o.nx = o.ny = 64;
  o.nz = 40;
  auto [ct, gt] = make_segthor_patient(0, patient, o);
  return make_slice_set("P" + std::to_string(patient), {ct}, gt, {{2, 1}}, 2, S, S, Normalisation::MinMaxVolume);
}
}  // namespace

TEST(SliceData, NormalisedResizedAndMasked) {
  SliceSet s = tiny_patient(0);
  EXPECT_EQ(s.height, 32);
  EXPECT_EQ(s.width, 32);
  EXPECT_EQ(s.channels, 1);
  EXPECT_EQ(s.classes, 2);
  EXPECT_EQ(s.slices, 40);
  EXPECT_EQ(s.image.size(), static_cast<size_t>(40 * 32 * 32));
  const auto [mn, mx] = std::minmax_element(s.image.begin(), s.image.end());
  EXPECT_GE(*mn, 0.f);
  EXPECT_LE(*mx, 1.f);
  EXPECT_GT(std::count(s.labels.begin(), s.labels.end(), 1), 0);
  EXPECT_EQ(std::count_if(s.labels.begin(), s.labels.end(), [](uint8_t v) { return v > 1; }), 0);
  SegthorPhantomOptions o;
  o.nx = o.ny = 64;
  o.nz = 40;
  const auto [ct, gt] = make_segthor_patient(0, 0, o);
  EXPECT_NEAR(s.spacing[0], ct.spacing[0] * 64 / 32, 1e-12);  // 64 px resized to 32: twice the spacing
  EXPECT_NEAR(s.spacing[2], ct.spacing[2], 1e-12);
  // the heart (SegTHOR label 2) became class 1: at the native size the counts agree exactly
  SliceSet n = make_slice_set("P0", {ct}, gt, {{2, 1}}, 2, 64, 64, Normalisation::MinMaxVolume);
  EXPECT_EQ(std::count(n.labels.begin(), n.labels.end(), 1), std::count(gt.data.begin(), gt.data.end(), 2.f));
  // several channels (e.g. MRI modalities) stack; a z-score per slice has mean 0
  SliceSet m = make_slice_set("P0", {ct, ct}, gt, {{2, 1}, {4, 2}}, 3, 32, 32, Normalisation::ZScoreSlice);
  EXPECT_EQ(m.channels, 2);
  EXPECT_GT(std::count(m.labels.begin(), m.labels.end(), 2), 0);
  double sum = 0;
  for (int64_t p = 0; p < 32 * 32; ++p) sum += m.image[static_cast<size_t>(5 * 2 * 32 * 32 + 32 * 32 + p)];
  EXPECT_NEAR(sum / (32 * 32), 0.0, 1e-4);
  EXPECT_THROW(make_slice_set("P0", {ct}, gt, {{2, 5}}, 2, 32, 32, Normalisation::None), std::exception);
}

TEST(SliceData, WeakSeedsAreSmallDiscsInsideTheOrgan) {
  SliceSet s = tiny_patient(1);
  add_weak_seeds(s, 1, 5);
  const int64_t P = s.pixels();
  for (int64_t z = 0; z < s.slices; ++z) {
    const auto n = std::count(s.seeds.begin() + z * P, s.seeds.begin() + (z + 1) * P, 1);
    if (!s.has_class(z, 1)) {
      EXPECT_EQ(n, 0) << z;
      continue;
    }
    EXPECT_GE(n, 1) << z;
    EXPECT_LE(n, 13) << z;  // a disc of diameter 4 covers at most 13 pixels
    for (int64_t p = 0; p < P; ++p)
      if (s.seeds[static_cast<size_t>(z * P + p)]) EXPECT_EQ(s.labels[static_cast<size_t>(z * P + p)], 1);
  }
  SliceSet t = tiny_patient(1);
  add_weak_seeds(t, 1, 5);
  EXPECT_EQ(s.seeds, t.seeds);
  SliceSet u = tiny_patient(1);
  add_weak_seeds(u, 1, 6);
  EXPECT_NE(s.seeds, u.seeds);
}

TEST(SliceData, BoundsFromGroundTruthAndZeroWithoutOrgan) {
  std::vector<SliceSet> sets{tiny_patient(0), tiny_patient(1)};
  const auto b = class_area_bounds(sets, 1);
  EXPECT_GT(b[0], 0);
  EXPECT_GE(b[1], b[0]);
  set_size_bounds(sets[0], 1, b);
  for (int64_t z = 0; z < sets[0].slices; ++z) {
    const auto& bz = sets[0].bounds[static_cast<size_t>(z * 2 + 1)];
    if (sets[0].has_class(z, 1)) EXPECT_EQ(bz, b);
    else EXPECT_EQ(bz, (std::array<double, 2>{0, 0}));
    EXPECT_EQ(sets[0].bounds[static_cast<size_t>(z * 2)], (std::array<double, 2>{0, 0}));  // background: unset
  }
}

TEST(SliceData, AugmentationMovesImageLabelsSeedsAndExtrasTogether) {
  std::vector<SliceSet> sets{tiny_patient(0)};
  add_weak_seeds(sets[0], 1, 3);
  set_size_bounds(sets[0], 1, class_area_bounds(sets, 1));
  // an extra nearest map equal to the labels, and a bilinear one equal to the image: both must follow the transform
  SliceExtra lab{1, true, true, std::vector<float>(sets[0].labels.begin(), sets[0].labels.end())};
  SliceExtra img{1, true, false, sets[0].image};
  SliceExtra per{2, false, false, std::vector<float>(static_cast<size_t>(sets[0].slices * 2), 7.f)};
  sets[0].extra = {{"labels_copy", lab}, {"image_copy", img}, {"per_slice", per}};
  SliceSampler sp(sets, 4, 11, paper1_rotation_mirror_flip());
  sp.start_epoch(1);
  const Batch b = sp.next(Device::CPU);
  ASSERT_EQ(b.image.shape(), (Shape{4, 1, 32, 32}));
  ASSERT_EQ(b.seeds.shape(), (Shape{4, 2, 32, 32}));
  ASSERT_EQ(b.bounds.shape(), (Shape{4, 2, 2}));
  ASSERT_EQ(b.extra.at("per_slice").shape(), (Shape{4, 2}));
  const int64_t P = 32 * 32;
  for (int64_t i = 0; i < 4 * P; ++i) {
    EXPECT_EQ(static_cast<float>(b.target.data<int64_t>()[i]), b.extra.at("labels_copy").data<float>()[i]);
    EXPECT_FLOAT_EQ(b.image.data<float>()[i], b.extra.at("image_copy").data<float>()[i]);
    if (b.seeds.data<float>()[(i / P) * 2 * P + P + i % P] > 0) EXPECT_EQ(b.target.data<int64_t>()[i], 1);
  }
  EXPECT_FLOAT_EQ(b.extra.at("per_slice").data<float>()[3], 7.f);
  // exact transforms keep the organ's pixel count of each slice (a permutation of pixels)
  SliceSampler same(sets, 4, 11, paper1_rotation_mirror_flip());
  same.start_epoch(1);
  const Batch c = same.next(Device::CPU);
  for (int64_t i = 0; i < 4 * P; ++i) ASSERT_EQ(b.image.data<float>()[i], c.image.data<float>()[i]);  // deterministic
  // labels that say left/right refuse a mirror
  EXPECT_THROW(SliceSampler(sets, 4, 0, paper1_rotation_mirror_flip(), true), std::exception);
  Augmentation no_mirror = paper1_rotation_mirror_flip();
  no_mirror.config.p_mirror = 0;
  EXPECT_NO_THROW(SliceSampler(sets, 4, 0, no_mirror, true));
  EXPECT_EQ(Augmentation{}.describe(), "none");
}
