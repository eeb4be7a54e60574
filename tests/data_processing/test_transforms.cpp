// Transforms on hand-made cases: torch-style resize, resampling to a spacing, crop/pad/shift/flip with their affines,
// intensity normalisation, 2-D augmentation (directions, label alignment, determinism), weak seeds and size bounds,
// and the Gaussian blur against scipy.ndimage.gaussian_filter.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "data/transforms/augment.h"
#include "data/transforms/crop_pad.h"
#include "data/transforms/filters.h"
#include "data/transforms/intensity.h"
#include "data/transforms/resample.h"
#include "data/transforms/weak_labels.h"
#include "test_util.h"

using namespace seg;
using seg::test::vol2d;

namespace {
// World position of voxel (i, j, k) through the affine.
std::array<double, 3> world(const Volume& v, double i, double j, double k) {
  std::array<double, 3> w{};
  for (size_t r = 0; r < 3; ++r) w[r] = v.affine[r][0] * i + v.affine[r][1] * j + v.affine[r][2] * k + v.affine[r][3];
  return w;
}
}  // namespace

TEST(Resize2d, BilinearAlignCornersFalseMatchesTorchValues) {
  // torch: F.interpolate([[0,1],[2,3]], size=4, mode='bilinear', align_corners=False) rows are
  // x-weights {0, .25, .75, 1} plus 2·y-weights
  const Volume v = vol2d(2, 2, {0, 1, 2, 3});
  const Volume r = resize_2d(v, 4, 4, Interp::Linear);
  const double w[4] = {0, 0.25, 0.75, 1};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_NEAR(r.at(x, y, 0), w[x] + 2 * w[y], 1e-6) << x << "," << y;
}

TEST(Resize2d, NearestIsTorchLegacyFloor) {
  const Volume v = vol2d(5, 1, {10, 11, 12, 13, 14});
  const Volume d = resize_2d(v, 3, 1, Interp::Nearest);  // floor(d·5/3) = 0, 1, 3
  EXPECT_EQ(d.data, (std::vector<float>{10, 11, 13}));
  const Volume u = resize_2d(vol2d(2, 1, {7, 9}), 5, 1, Interp::Nearest);  // floor(d·0.4) = 0,0,0,1,1
  EXPECT_EQ(u.data, (std::vector<float>{7, 7, 7, 9, 9}));
}

TEST(Resize2d, AffineKeepsWorldPositionOfSampledPoint) {
  Volume v = Volume::make({6, 4, 2}, {0.8, 1.1, 2.5});
  v.affine[0][3] = -10;
  v.affine[1][3] = 5;
  const Volume r = resize_2d(v, 4, 8, Interp::Linear);
  EXPECT_NEAR(r.spacing[0], 0.8 * 6 / 4, 1e-12);
  EXPECT_NEAR(r.spacing[1], 1.1 * 4 / 8, 1e-12);
  for (int d = 0; d < 4; ++d) {
    const auto a = world(r, d, 0, 1), b = world(v, (d + 0.5) * 6 / 4 - 0.5, -0.25, 1);  // y: (0 + .5)·.5 − .5
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a[static_cast<size_t>(k)], b[static_cast<size_t>(k)], 1e-9);
  }
}

TEST(Resample, ToSpacingLinearAndNearest) {
  Volume v = Volume::make({5, 1, 1}, {1, 1, 1});
  v.data = {0, 10, 20, 30, 50};
  const Volume coarse = resample_to_spacing(v, {2, 1, 1}, Interp::Linear);
  EXPECT_EQ(coarse.data, (std::vector<float>{0, 20, 50}));
  EXPECT_NEAR(coarse.spacing[0], 2, 1e-12);
  const Volume fine = resample_to_spacing(v, {0.5, 1, 1}, Interp::Linear);
  ASSERT_EQ(fine.nx(), 9);
  EXPECT_NEAR(fine.data[1], 5, 1e-6);
  EXPECT_NEAR(fine.data[7], 40, 1e-6);
  Volume lab = v;
  lab.data = {0, 1, 1, 2, 2};
  const Volume ln = resample_to_spacing(lab, {0.5, 1, 1}, Interp::Nearest);
  EXPECT_EQ(ln.data, (std::vector<float>{0, 1, 1, 1, 1, 2, 2, 2, 2}));  // half-way rounds up
  // 512 voxels at 0.9 mm → 1.8 mm: 256 voxels whose centres keep their world positions
  const Volume big = resample_to_spacing(Volume::make({512, 1, 1}, {0.9, 1, 1}), {1.8, 1, 1}, Interp::Linear);
  EXPECT_EQ(big.nx(), 256);
  EXPECT_NEAR(world(big, 255, 0, 0)[0], 255 * 1.8, 1e-9);
}

TEST(CropPad, BoxShiftFlipAndAffines) {
  Volume v = vol2d(3, 2, {1, 2, 3, 4, 5, 6});
  v.affine[0][3] = 100;
  const Volume p = crop_or_pad(v, {-1, 0, 0}, {5, 2, 1}, -1.f);
  EXPECT_EQ(p.data, (std::vector<float>{-1, 1, 2, 3, -1, -1, 4, 5, 6, -1}));
  EXPECT_NEAR(world(p, 1, 0, 0)[0], world(v, 0, 0, 0)[0], 1e-12);
  const Volume c = center_crop_or_pad(vol2d(4, 1, {1, 2, 3, 4}), {2, 1, 1});
  EXPECT_EQ(c.data, (std::vector<float>{2, 3}));
  const Volume s = shift_integer(v, 1, 0, 0, 0.f);
  EXPECT_EQ(s.data, (std::vector<float>{0, 1, 2, 0, 4, 5}));
  EXPECT_EQ(s.affine, v.affine);
  const Volume fx = flip(v, 0), fy = flip(v, 1);
  EXPECT_EQ(fx.data, (std::vector<float>{3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(fy.data, (std::vector<float>{4, 5, 6, 1, 2, 3}));
  EXPECT_NEAR(world(fx, 0, 0, 0)[0], world(v, 2, 0, 0)[0], 1e-12);  // the voxel keeps its world position
  EXPECT_EQ(flip(fx, 0).data, v.data);
  EXPECT_THROW(flip(v, 3), std::invalid_argument);
}

TEST(Intensity, NormalisationsOnHandValues) {
  EXPECT_EQ(minmax_normalise(vol2d(3, 1, {2, 4, 6})).data, (std::vector<float>{0, 0.5f, 1}));
  EXPECT_EQ(minmax_normalise(vol2d(2, 1, {7, 7})).data, (std::vector<float>{0, 0}));
  const Volume z = zscore(vol2d(3, 1, {1, 2, 3}));
  EXPECT_NEAR(z.data[0], -1 / std::sqrt(2.0 / 3), 1e-6);
  EXPECT_NEAR(z.data[1], 0, 1e-7);
  const Volume nz = zscore_nonzero(vol2d(3, 1, {0, 2, 4}));
  EXPECT_EQ(nz.data[0], 0.f);
  EXPECT_NEAR(nz.data[1], -1, 1e-6);
  EXPECT_NEAR(nz.data[2], 1, 1e-6);
  Volume two = vol2d(2, 1, {1, 3});  // two channels normalised separately
  two.channels = 2;
  two.data = {1, 3, 100, 300};
  const Volume tz = zscore(two);
  EXPECT_NEAR(tz.data[2], -1, 1e-6);
  EXPECT_NEAR(tz.data[3], 1, 1e-6);
  EXPECT_EQ(ct_clip_scale(vol2d(3, 1, {-2000, 500, 3000}), -1000, 1000, 1000).data, (std::vector<float>{-1, 0.5f, 1}));
}

TEST(Augment, DirectionsOfEachGeometricStep) {
  auto dot = [](int64_t x, int64_t y) {
    Volume v = Volume::make({5, 5, 1});
    v.at(x, y, 0) = 1;
    return v;
  };
  auto where = [](const Volume& v) {
    for (int64_t y = 0; y < v.ny(); ++y)
      for (int64_t x = 0; x < v.nx(); ++x)
        if (v.at(x, y, 0) > 0.5f) return std::array<int64_t, 2>{x, y};
    return std::array<int64_t, 2>{-1, -1};
  };
  const Volume d = dot(3, 2);
  AugmentParams p;
  p.angle_deg = 90;  // +x turns towards −y (counter-clockwise as displayed)
  EXPECT_EQ(where(augment_2d(d, d, p).second), (std::array<int64_t, 2>{2, 1}));
  EXPECT_EQ(where(augment_2d(d, d, p).first), (std::array<int64_t, 2>{2, 1}));
  p = {};
  p.scale = 2;
  EXPECT_EQ(where(augment_2d(d, d, p).first), (std::array<int64_t, 2>{4, 2}));  // bilinear: (3,2) and (5,2) get 0.5
  p = {};
  p.shift_x = 1;
  p.shift_y = 2;
  EXPECT_EQ(where(augment_2d(d, d, p).second), (std::array<int64_t, 2>{4, 4}));
  p = {};
  p.mirror = true;
  EXPECT_EQ(where(augment_2d(d, d, p).second), (std::array<int64_t, 2>{1, 2}));
  p = {};
  p.flip = true;
  EXPECT_EQ(where(augment_2d(dot(2, 3), Volume{}, p).first), (std::array<int64_t, 2>{2, 1}));
  EXPECT_EQ(augment_2d(d, d, AugmentParams{}).first.data, d.data);  // identity leaves both untouched
}

TEST(Augment, ImageAndLabelStayAlignedAndDrawsAreSeeded) {
  const int64_t n = 48;
  Volume img = Volume::make({n, n, 2}), lab = img;
  for (int64_t z = 0; z < 2; ++z)
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) {
        const bool in = std::hypot(x - 30.0, y - 20.0) < 9;
        img.at(x, y, z) = in ? 1.f : 0.f;
        lab.at(x, y, z) = in ? 2.f : 0.f;
      }
  AugmentConfig cfg;
  cfg.p_rotate = cfg.p_scale = 1;
  for (uint64_t i = 0; i < 5; ++i) {
    const AugmentParams p = draw_augment(cfg, 7, i);
    EXPECT_LE(std::fabs(p.angle_deg), 30);
    EXPECT_GE(p.scale, 0.8);
    EXPECT_LE(p.scale, 1.2);
    const AugmentParams q = draw_augment(cfg, 7, i);
    EXPECT_EQ(p.angle_deg, q.angle_deg);
    EXPECT_EQ(p.mirror, q.mirror);
    const auto [ai, al] = augment_2d(img, lab, p);
    int64_t agree = 0, fg = 0;
    for (size_t k = 0; k < ai.data.size(); ++k) {
      EXPECT_TRUE(al.data[k] == 0.f || al.data[k] == 2.f);  // nearest: no new label values
      if (al.data[k] == 2.f || ai.data[k] > 0.5f) {
        ++fg;
        agree += (al.data[k] == 2.f) == (ai.data[k] > 0.5f);
      }
    }
    EXPECT_GT(fg, 300);
    EXPECT_GT(static_cast<double>(agree) / static_cast<double>(fg), 0.93) << "draw " << i;
  }
  EXPECT_NE(draw_augment(cfg, 7, 0).angle_deg, draw_augment(cfg, 8, 0).angle_deg);
  AugmentConfig off{0, 30, 0, 0.8, 1.2, 0, 0, 0, 0, 0, 0.5, 2};
  const AugmentParams none = draw_augment(off, 1, 1);
  EXPECT_EQ(none.angle_deg, 0);
  EXPECT_EQ(none.scale, 1);
  EXPECT_FALSE(none.mirror || none.flip);
}

TEST(WeakLabels, OneClippedDiscPerPositiveSliceSeeded) {
  Volume lab = Volume::make({12, 12, 4});
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 0; x < 12; ++x) {
      lab.at(x, y, 0) = 2;                                   // whole slice: the disc is only cut by the border
      if (x >= 3 && x < 6 && y >= 4 && y < 7) lab.at(x, y, 1) = 2;  // 3×3 organ: disc clipped to it
      if (x < 6) lab.at(x, y, 3) = 1;                        // another label only: no seed
    }
  const Volume s = weak_seed_labels(lab, 2, 5);
  const int64_t P = 144;
  for (int64_t z = 0; z < 4; ++z) {
    int64_t n = 0;
    for (int64_t p = 0; p < P; ++p) {
      const float v = s.data[static_cast<size_t>(z * P + p)];
      n += v != 0;
      if (v != 0) {
        EXPECT_EQ(lab.data[static_cast<size_t>(z * P + p)], 2.f);
      }
    }
    if (z >= 2) {
      EXPECT_EQ(n, 0) << z;
    } else {
      EXPECT_GE(n, z == 0 ? 6 : 5) << z;  // a corner of the image keeps 6 of the 13 pixels; any 3×3 cell keeps ≥ 5
      EXPECT_LE(n, z == 0 ? 13 : 9) << z;
    }
  }
  EXPECT_EQ(weak_seed_labels(lab, 2, 5).data, s.data);
  bool differs = false;
  for (uint64_t seed = 6; seed < 12 && !differs; ++seed) differs = weak_seed_labels(lab, 2, seed).data != s.data;
  EXPECT_TRUE(differs);
}

TEST(WeakLabels, SizeBoundsOverPositiveSlicesAtTrainingSize) {
  Volume a = Volume::make({4, 4, 3}), b = a;
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 2; ++x) a.at(x, y, 0) = 1;  // 4 px
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 3; ++x) b.at(x, y, 2) = 1;  // 9 px
  EXPECT_EQ(size_bounds({&a, &b}, 1), (std::array<double, 2>{4, 9}));
  EXPECT_EQ(size_bounds({&a, &b}, 1, 8), (std::array<double, 2>{16, 36}));  // ×2 each way, nearest
  EXPECT_EQ(size_bounds({&a}, 3), (std::array<double, 2>{0, 0}));
  EXPECT_EQ(slice_areas(b, 1), (std::vector<int64_t>{0, 0, 9}));
}

TEST(Filters, GaussianBlurMatchesScipy) {
  if (!seg::test::python_has("scipy.ndimage")) GTEST_SKIP() << "/usr/bin/python3 with scipy not available";
  Volume v = Volume::make({9, 7, 5});
  std::mt19937 g(3);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& x : v.data) x = u(g);
  const auto dir = std::filesystem::temp_directory_path() / ("segblur_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.raw", std::ios::binary).write(reinterpret_cast<const char*>(v.data.data()), static_cast<std::streamsize>(v.data.size() * 4));
  const std::string py =
      "import numpy as np,sys\nfrom scipy import ndimage as nd\nd=sys.argv[1]\n"
      "a=np.fromfile(d+'/in.raw',np.float32).reshape(5,7,9)\n"
      "nd.gaussian_filter(a,sigma=(0.8,0.6,1.3)).astype(np.float32).tofile(d+'/ref3.raw')\n"
      "nd.gaussian_filter(a,sigma=(0,2.2,2.2)).astype(np.float32).tofile(d+'/ref2.raw')\n";
  std::ofstream(dir / "ref.py") << py;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + (dir / "ref.py").string() + " " + dir.string()).c_str()), 0);
  auto load = [&](const char* name) {
    std::vector<float> r(v.data.size());
    std::ifstream(dir / name, std::ios::binary).read(reinterpret_cast<char*>(r.data()), static_cast<std::streamsize>(r.size() * 4));
    return r;
  };
  const auto r3 = load("ref3.raw"), r2 = load("ref2.raw");
  const Volume b3 = gaussian_blur(v, {1.3, 0.6, 0.8}), b2 = gaussian_blur_2d(v, 2.2);  // scipy's axes are (z, y, x)
  for (size_t i = 0; i < r3.size(); ++i) {
    ASSERT_NEAR(b3.data[i], r3[i], 2e-6) << i;
    ASSERT_NEAR(b2.data[i], r2[i], 2e-6) << i;
  }
  std::filesystem::remove_all(dir);
}
