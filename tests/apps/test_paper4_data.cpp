// Paper 4's data (apps/paper4/data.h): preprocessing (centre crop, resize, ImageNet normalisation, grey → RGB), the
// structures (polyp, disc = rim ∪ cup, cup), the auxiliary targets in the sigmoid's range with the paper's
// definitions, the seeded 70/30 split, the phantoms, and the real Kvasir-SEG and DRIONS samples (skipped with a reason
// when ../shared/data/real is absent).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "apps/paper4/data.h"
#include "data/transforms/intensity.h"

using namespace seg;
using namespace seg::paper4;

namespace {
Volume rgb_image(int64_t nx, int64_t ny) {  // R = x, G = y, B = 200 (8-bit)
  Volume v = Volume::make({nx, ny, 1});
  v.channels = 3;
  v.data.resize(static_cast<size_t>(3 * nx * ny));
  for (int64_t y = 0; y < ny; ++y)
    for (int64_t x = 0; x < nx; ++x) {
      v.data[static_cast<size_t>(x + nx * y)] = static_cast<float>(x);
      v.data[static_cast<size_t>(nx * ny + x + nx * y)] = static_cast<float>(y);
      v.data[static_cast<size_t>(2 * nx * ny + x + nx * y)] = 200.f;
    }
  return v;
}
std::vector<uint8_t> disc_mask(int64_t S, double cx, double cy, double r) {
  std::vector<uint8_t> m(static_cast<size_t>(S * S));
  for (int64_t y = 0; y < S; ++y)
    for (int64_t x = 0; x < S; ++x) m[static_cast<size_t>(x + S * y)] = std::hypot(x - cx, y - cy) <= r;
  return m;
}
std::string real_dir(const std::string& name) { return std::string(SEG_SHARED_DIR) + "/data/real/" + name; }
}  // namespace

TEST(Paper4Data, PreprocessCropsTheCentreSquareResizesAndNormalises) {
  // 96 × 64 (W × H) → the centre 64 × 64 square (x in [16, 80)) → 32².
  Volume img = rgb_image(96, 64);
  Volume lab = Volume::make({96, 64, 1});
  for (int64_t y = 0; y < 64; ++y)
    for (int64_t x = 0; x < 96; ++x) lab.at(x, y, 0) = x >= 48 ? 1.f : 0.f;
  const Image im = preprocess("a", img, lab, 32);
  ASSERT_EQ(im.rgb.size(), 3u * 32 * 32);
  ASSERT_EQ(im.labels.size(), 32u * 32);
  // Label: x ≥ 48 in the source is column ≥ (48 − 16)/2 = 16 at 32² (nearest).
  for (int64_t x = 0; x < 32; ++x) EXPECT_EQ(im.labels[static_cast<size_t>(x + 32 * 5)], x >= 16 ? 1 : 0) << x;
  // Blue is constant 200: (200/255 − 0.406)/0.225 everywhere; red grows with x from about 16 to 80.
  for (size_t i = 2 * 1024; i < 3 * 1024; ++i) ASSERT_NEAR(im.rgb[i], (200 / 255.0 - 0.406) / 0.225, 1e-5);
  EXPECT_NEAR(im.display[0], 16.5, 1.5);
  EXPECT_NEAR(im.display[31], 79, 1.5);
  EXPECT_LT(im.rgb[0], im.rgb[31]);
  // Grey images become three equal channels.
  Volume grey = Volume::make({32, 32, 1}, {1, 1, 1}, 100.f);
  const Image g = preprocess("g", grey, Volume::make({32, 32, 1}), 32);
  EXPECT_NEAR(g.rgb[0], (100 / 255.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(g.rgb[2 * 1024], (100 / 255.0 - 0.406) / 0.225, 1e-5);
  EXPECT_THROW(preprocess("bad", img, Volume::make({95, 64, 1}), 32), std::invalid_argument);
}

TEST(Paper4Data, StructuresOfTheFundusLabels) {
  const std::vector<uint8_t> ids{0, 1, 2, 1, 0, 2};
  EXPECT_EQ(structure_mask(ids, Target::Disc), (std::vector<uint8_t>{0, 1, 1, 1, 0, 1}));  // rim ∪ cup
  EXPECT_EQ(structure_mask(ids, Target::Cup), (std::vector<uint8_t>{0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(structure_mask({0, 1, 0}, Target::Polyp), (std::vector<uint8_t>{0, 1, 0}));
  Image a;
  a.labels = {0, 1, 1};
  EXPECT_TRUE(has_structure({a}, Target::Disc));
  EXPECT_FALSE(has_structure({a}, Target::Cup));
}

TEST(Paper4Data, AuxiliaryTargetsFollowThePapersDefinitionsInTheSigmoidRange) {
  const int64_t S = 64;
  // Two components: every component's boundary, dilated by r = 5·64/256 = 1.25 px.
  std::vector<uint8_t> m = disc_mask(S, 20, 20, 8), m2 = disc_mask(S, 46, 44, 6);
  for (size_t i = 0; i < m.size(); ++i) m[i] |= m2[i];
  EXPECT_DOUBLE_EQ(contour_radius(256), 5.0);
  const auto c = contour_target(m, S);
  EXPECT_EQ(c[static_cast<size_t>(20 + S * 20)], 0);   // deep inside the first disc
  EXPECT_EQ(c[static_cast<size_t>(20 + S * 12)], 1);   // on its top boundary
  EXPECT_EQ(c[static_cast<size_t>(46 + S * 38)], 1);   // on the second disc's boundary
  EXPECT_EQ(c[static_cast<size_t>(46 + S * 44)], 0);
  EXPECT_EQ(c[static_cast<size_t>(2 + S * 60)], 0);    // far outside
  for (DistanceVariant v : {DistanceVariant::D1, DistanceVariant::D2, DistanceVariant::D3}) {
    const auto d = distance_target(m, S, v);
    float lo = 1, hi = 0;
    for (float x : d) lo = std::min(lo, x), hi = std::max(hi, x);
    EXPECT_GE(lo, 0.f);
    EXPECT_LE(hi, 1.f);
    EXPECT_FLOAT_EQ(hi, 1.f);  // divided by the largest |value|
    const float centre = d[static_cast<size_t>(20 + S * 20)], boundary = d[static_cast<size_t>(20 + S * 12)],
                outside = d[static_cast<size_t>(2 + S * 60)];
    const float zero_level = v == DistanceVariant::D3 ? 0.5f : 0.f;  // the boundary's value
    EXPECT_EQ(boundary, zero_level);
    EXPECT_GT(outside, v == DistanceVariant::D3 ? 0.75f : 0.5f);
    if (v == DistanceVariant::D1) {
      EXPECT_EQ(centre, 0.f);  // 0 inside
    } else if (v == DistanceVariant::D2) {
      EXPECT_GT(centre, 0.f);  // positive inside
    } else {
      EXPECT_LT(centre, 0.5f);  // negative inside: below the zero level
    }
  }
  // An empty mask: all zero (D3: 0.5, its zero level).
  const std::vector<uint8_t> empty(static_cast<size_t>(S * S), 0);
  for (float x : distance_target(empty, S, DistanceVariant::D3)) ASSERT_EQ(x, 0.5f);
}

TEST(Paper4Data, SeededSplit70To30) {
  std::vector<Image> ims(20);
  for (size_t i = 0; i < ims.size(); ++i) ims[i].id = "im" + std::to_string(100 + i);
  const auto [tr, te] = split_train_test(ims, 0.7, 3);
  EXPECT_EQ(tr.size(), 14u);
  EXPECT_EQ(te.size(), 6u);
  std::vector<bool> seen(20, false);
  for (size_t i : tr) seen[i] = true;
  for (size_t i : te) {
    EXPECT_FALSE(seen[i]);
    seen[i] = true;
  }
  const auto again = split_train_test(ims, 0.7, 3), other = split_train_test(ims, 0.7, 4);
  EXPECT_EQ(again.first, tr);
  EXPECT_NE(other.first, tr);
  EXPECT_THROW(split_train_test({ims[0]}, 0.7, 1), std::runtime_error);
}

TEST(Paper4Data, PhantomsHaveThePapersStructures) {
  const auto polyps = phantom_images(Dataset::Polyp, 4, 1, 64);
  ASSERT_EQ(polyps.size(), 4u);
  EXPECT_TRUE(has_structure(polyps, Target::Polyp));
  const auto fundus = phantom_images(Dataset::Fundus, 4, 1, 64);
  EXPECT_TRUE(has_structure(fundus, Target::Disc));
  EXPECT_TRUE(has_structure(fundus, Target::Cup));
  for (const auto& im : fundus) {  // the cup lies inside the disc, and every image has both
    const auto disc = structure_mask(im.labels, Target::Disc), cup = structure_mask(im.labels, Target::Cup);
    int nd = 0, nc = 0;
    for (size_t i = 0; i < disc.size(); ++i) {
      nd += disc[i], nc += cup[i];
      ASSERT_TRUE(!cup[i] || disc[i]);
    }
    EXPECT_GT(nc, 0) << im.id;
    EXPECT_GT(nd, nc) << im.id;
  }
}

TEST(Paper4Data, RealKvasirAndDrionsSamples) {
  const std::string kvasir = real_dir("kvasir_seg_polyp_samples"), drions = real_dir("drions_fundus_optic_disc");
  if (!std::filesystem::exists(kvasir) || !std::filesystem::exists(drions))
    GTEST_SKIP() << "real samples absent (" << kvasir << ", " << drions << ")";
  const auto polyps = load_folder(Dataset::Polyp, kvasir, 256);
  ASSERT_EQ(polyps.size(), 5u);
  for (const auto& im : polyps) {  // Kvasir polyps cover 7–32% of the frame (SOURCE.md); the crop keeps most of it
    double fg = 0;
    for (uint8_t l : im.labels) fg += l;
    EXPECT_GT(fg / (256.0 * 256.0), 0.03) << im.id;
    EXPECT_LT(fg / (256.0 * 256.0), 0.5) << im.id;
  }
  const auto discs = load_folder(Dataset::Fundus, drions, 256);
  ASSERT_EQ(discs.size(), 19u);
  EXPECT_TRUE(has_structure(discs, Target::Disc));
  EXPECT_FALSE(has_structure(discs, Target::Cup));  // DRIONS annotates the disc only
  for (const auto& im : discs) {  // the disc survives the centre crop of the 600 × 400 frames
    int n = 0;
    for (uint8_t l : im.labels) n += l;
    EXPECT_GT(n, 200) << im.id;
  }
}
