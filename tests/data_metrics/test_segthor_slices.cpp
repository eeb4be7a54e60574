// From volumes to training slices: min–max normalisation, resizing, weak seeds (4-px discs inside the organ, one
// per organ slice, seeded), size bounds from the ground truth and [0, 0] on slices without the organ.
#include <gtest/gtest.h>

#include <algorithm>

#include "apps/common/segthor_data.h"
#include "data/phantoms/segthor_phantom.h"

using namespace seg;

namespace {
SliceSet tiny_patient(int patient, int64_t S = 32) {
  SegthorPhantomOptions o;
  o.nx = o.ny = 64;
  o.nz = 40;
  auto [ct, gt] = make_segthor_patient(0, patient, o);
  return make_slice_set("P" + std::to_string(patient), ct, gt, 2, S);
}
}  // namespace

TEST(SegthorSlices, NormalisedResizedAndMasked) {
  SliceSet s = tiny_patient(0);
  EXPECT_EQ(s.size, 32);
  EXPECT_EQ(s.slices, 40);
  EXPECT_EQ(s.image.size(), static_cast<size_t>(40 * 32 * 32));
  const auto [mn, mx] = std::minmax_element(s.image.begin(), s.image.end());
  EXPECT_GE(*mn, 0.f);
  EXPECT_LE(*mx, 1.f);
  EXPECT_GT(std::count(s.mask.begin(), s.mask.end(), 1), 0);
  SegthorPhantomOptions o;
  o.nx = o.ny = 64;
  o.nz = 40;
  const Volume ct = make_segthor_patient(0, 0, o).first;
  EXPECT_NEAR(s.spacing[0], ct.spacing[0] * 64 / 32, 1e-12);  // 64 px resized to 32: twice the spacing
  EXPECT_NEAR(s.spacing[2], ct.spacing[2], 1e-12);
}

TEST(SegthorSlices, WeakSeedsAreSmallDiscsInsideTheOrgan) {
  SliceSet s = tiny_patient(1);
  add_weak_seeds(s, 5);
  const int64_t P = s.size * s.size;
  for (int64_t z = 0; z < s.slices; ++z) {
    const auto n = std::count(s.seeds.begin() + z * P, s.seeds.begin() + (z + 1) * P, 1);
    if (!s.has_organ(z)) {
      EXPECT_EQ(n, 0) << z;
      continue;
    }
    EXPECT_GE(n, 1) << z;
    EXPECT_LE(n, 13) << z;  // a disc of diameter 4 covers at most 13 pixels
    for (int64_t p = 0; p < P; ++p)
      if (s.seeds[static_cast<size_t>(z * P + p)]) EXPECT_EQ(s.mask[static_cast<size_t>(z * P + p)], 1);
  }
  SliceSet t = tiny_patient(1);
  add_weak_seeds(t, 5);
  EXPECT_EQ(s.seeds, t.seeds);
  add_weak_seeds(t, 6);
  EXPECT_NE(s.seeds, t.seeds);
}

TEST(SegthorSlices, BoundsFromGroundTruthAndZeroWithoutOrgan) {
  std::vector<SliceSet> sets{tiny_patient(0), tiny_patient(1)};
  const auto b = organ_area_bounds(sets);
  EXPECT_GT(b[0], 0);
  EXPECT_GE(b[1], b[0]);
  set_size_bounds(sets[0], b);
  for (int64_t z = 0; z < sets[0].slices; ++z) {
    const auto& bz = sets[0].bounds[static_cast<size_t>(z)];
    if (sets[0].has_organ(z)) EXPECT_EQ(bz, b);
    else EXPECT_EQ(bz, (std::array<double, 2>{0, 0}));
  }
}
