// Pseudo-patient deformation (data/transforms/deform.h): the identity reproduces the scan, a shift moves it by whole
// voxels, a quarter turn maps a known voxel where the rotation says, the output grid follows the spacing and keeps the
// world position of the extent, draws are reproducible, and segtool pseudo writes a folder the SegTHOR loader reads —
// also on the real chest CT when the shared data samples (SEG_SHARED_DIR) are present.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/transforms/deform.h"

using namespace seg;

namespace {

DeformConfig still() {
  DeformConfig c;
  c.elastic_mm = 0;
  c.noise_sd = 0;
  return c;
}

// A 3-D ramp image (distinct value per voxel) and a box label, on an anisotropic grid.
std::pair<Volume, Volume> ramp_case(std::array<int64_t, 3> d = {9, 8, 7}, std::array<double, 3> sp = {1.5, 1.5, 2.0}) {
  Volume img = Volume::make(d, sp), lab = Volume::make(d, sp);
  img.datatype = "float32";
  lab.datatype = "uint8";
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x) {
        img.at(x, y, z) = static_cast<float>(x + 10 * y + 100 * z);
        lab.at(x, y, z) = (x >= 2 && x < 6 && y >= 3 && y < 6 && z >= 1 && z < 5) ? 2.f : 0.f;
      }
  return {img, lab};
}

}  // namespace

TEST(Deform, IdentityReproducesTheScan) {
  auto [img, lab] = ramp_case();
  const auto [o, l] = deform_case(img, lab, still(), DeformParams{}, {0, 0, 0});
  ASSERT_EQ(o.dims, img.dims);
  EXPECT_EQ(o.spacing, img.spacing);
  for (size_t i = 0; i < img.data.size(); ++i) {
    EXPECT_NEAR(o.data[i], img.data[i], 1e-4) << i;
    EXPECT_EQ(l.data[i], lab.data[i]) << i;
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(o.affine[r][c], img.affine[r][c], 1e-12);
}

TEST(Deform, ShiftMovesByWholeVoxels) {
  auto [img, lab] = ramp_case();
  DeformParams p;
  p.shift_mm = {1.5, -1.5, 2.0};  // +1 voxel in x, −1 in y, +1 in z
  const auto [o, l] = deform_case(img, lab, still(), p, {0, 0, 0});
  for (int64_t z = 1; z < 7; ++z)
    for (int64_t y = 0; y < 7; ++y)
      for (int64_t x = 1; x < 9; ++x) {
        EXPECT_NEAR(o.at(x, y, z), img.at(x - 1, y + 1, z - 1), 1e-4);
        EXPECT_EQ(l.at(x, y, z), lab.at(x - 1, y + 1, z - 1));
      }
  // outside the source the border continues (clamped), no artificial frame
  EXPECT_NEAR(o.at(0, 0, 0), img.at(0, 1, 0), 1e-4);
}

TEST(Deform, QuarterTurnMapsVoxelsAsTheRotationSays) {
  auto [img, lab] = ramp_case({9, 9, 3}, {1, 1, 1});
  DeformParams p;
  p.angle_deg = 90;  // q = R·p: source (+1, 0) mm from the centre lands at (0, +1)
  const auto [o, l] = deform_case(img, lab, still(), p, {0, 0, 0});
  // centre voxel (4, 4); source (5, 4) → output (4, 5); source (4, 6) → output (2, 4)
  EXPECT_NEAR(o.at(4, 5, 1), img.at(5, 4, 1), 1e-3);
  EXPECT_NEAR(o.at(2, 4, 1), img.at(4, 6, 1), 1e-3);
  EXPECT_NEAR(o.at(4, 4, 1), img.at(4, 4, 1), 1e-3);
  // the label box is rotated, not resized: same voxel count
  double a = 0, b = 0;
  for (size_t i = 0; i < lab.data.size(); ++i) a += lab.data[i] == 2.f, b += l.data[i] == 2.f;
  EXPECT_EQ(a, b);
}

TEST(Deform, SpacingSetsTheGridAndKeepsTheExtent) {
  auto [img, lab] = ramp_case({10, 8, 12}, {1.5, 1.5, 1.5});
  img.affine = {{{-1.5, 0, 0, 30}, {0, -1.5, 0, 20}, {0, 0, 1.5, -10}}};  // LPS-like flips
  lab.affine = img.affine;
  const auto [o, l] = deform_case(img, lab, still(), DeformParams{}, {0, 0, 2.5});
  EXPECT_EQ(o.dims, (std::array<int64_t, 3>{10, 8, 7}));  // 12·1.5 / 2.5 = 7.2 → 7
  EXPECT_DOUBLE_EQ(o.spacing[2], 2.5);
  EXPECT_DOUBLE_EQ(o.affine[0][0], -1.5);
  EXPECT_DOUBLE_EQ(o.affine[2][2], 2.5);
  // the lower edge of the first slice is where the source's was: centre −10 − 0.75 + 1.25
  EXPECT_NEAR(o.affine[2][3], -10 - 0.75 + 1.25, 1e-12);
  EXPECT_EQ(l.dims, o.dims);
}

TEST(Deform, DrawsAreReproducibleAndVaryByIndex) {
  const DeformConfig cfg;
  const DeformParams a = draw_deform(cfg, 3, 1), b = draw_deform(cfg, 3, 1), c = draw_deform(cfg, 3, 2);
  EXPECT_EQ(a.scale_x, b.scale_x);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_NE(a.scale_x, c.scale_x);
  EXPECT_GE(a.scale_x, 1 - cfg.scale);
  EXPECT_LE(a.scale_x, 1 + cfg.scale);
  EXPECT_LE(std::abs(a.angle_deg), cfg.rotate_deg);
  auto [img, lab] = ramp_case({20, 20, 10}, {2, 2, 3});
  img.datatype = "int16";
  const auto [o1, l1] = deform_case(img, lab, cfg, a, {0, 0, 0});
  const auto [o2, l2] = deform_case(img, lab, cfg, b, {0, 0, 0});
  EXPECT_EQ(o1.data, o2.data);
  EXPECT_EQ(l1.data, l2.data);
  for (float v : o1.data) EXPECT_EQ(v, std::round(v));  // integer source → integer values
}

TEST(Deform, RejectsMismatchedGrids) {
  auto [img, lab] = ramp_case();
  Volume small = Volume::make({3, 3, 3});
  EXPECT_THROW(deform_case(img, small, still(), DeformParams{}, {0, 0, 0}), std::invalid_argument);
}

TEST(Deform, RealChestCtMakesSegthorPatients) {
  const std::filesystem::path src = std::filesystem::path(SEG_SHARED_DIR) / "data/real/totalsegmentator_cardiac_ct";
  if (!std::filesystem::exists(src / "ct.nii.gz")) GTEST_SKIP() << "real data not present: " << src;
  const Volume ct = read_image((src / "ct.nii.gz").string()), lab = read_image((src / "labels.nii.gz").string());
  const DeformConfig cfg;
  double heart_src = 0;
  for (float v : lab.data) heart_src += v == 1.f;
  heart_src *= ct.spacing[0] * ct.spacing[1] * ct.spacing[2];
  const auto dir = std::filesystem::temp_directory_path() / "seg_test_pseudo";
  std::filesystem::remove_all(dir);
  for (uint64_t i = 0; i < 2; ++i) {
    const auto [img, gt] = deform_case(ct, lab, cfg, draw_deform(cfg, 0, i), {0, 0, 2.5});
    double heart = 0;
    for (float v : gt.data) heart += v == 1.f;
    heart *= gt.spacing[0] * gt.spacing[1] * gt.spacing[2];
    // volume changes by the product of the scale factors (±10% each) and the elastic field, never wildly
    EXPECT_GT(heart, 0.65 * heart_src);
    EXPECT_LT(heart, 1.45 * heart_src);
    char id[32];
    std::snprintf(id, sizeof id, "Patient_%02d", static_cast<int>(i + 1));
    std::filesystem::create_directories(dir / "train" / id);
    write_image((dir / "train" / id / (std::string(id) + ".nii.gz")).string(), img);
    write_image((dir / "train" / id / "GT.nii.gz").string(), gt);
  }
  const auto cases = list_cases("segthor", dir.string());
  ASSERT_EQ(cases.size(), 2u);
  const LoadedCase c = load_case(cases[0]);
  EXPECT_EQ(c.images.at(0).dims, c.label.dims);
  EXPECT_EQ(c.images.at(0).datatype, "int16");
  std::filesystem::remove_all(dir);
}
