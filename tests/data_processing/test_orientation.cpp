// Axis codes (nibabel's aff2axcodes convention) and exact reorientation: codes of diagonal, flipped, permuted and
// oblique affines; every voxel keeps its value and its world position; reorient_back undoes reorient exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "data/transforms/orientation.h"

using namespace seg;

namespace {

using Affine = std::array<std::array<double, 4>, 3>;

std::array<double, 3> world(const Affine& a, int64_t i, int64_t j, int64_t k) {
  std::array<double, 3> w{};
  for (int r = 0; r < 3; ++r) w[r] = a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3];
  return w;
}

// A 5×4×3 volume with 2 channels, distinct values, and the given affine.
Volume test_volume(const Affine& a) {
  Volume v = Volume::make({5, 4, 3}, {1, 1, 1});
  v.channels = 2;
  v.data.resize(static_cast<size_t>(2 * v.voxels()));
  for (size_t i = 0; i < v.data.size(); ++i) v.data[i] = static_cast<float>(i) * 1.5f - 7.f;
  v.affine = a;
  for (int c = 0; c < 3; ++c) v.spacing[c] = std::sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
  return v;
}

}  // namespace

TEST(Orientation, AxisCodesFollowNibabel) {
  EXPECT_EQ(axis_codes(Affine{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}}), "RAS");
  EXPECT_EQ(axis_codes(Affine{{{-0.8, 0, 0, 0}, {0, -0.8, 0, 0}, {0, 0, 2.5, 0}}}), "LPS");
  // voxel axis 0 along world −z, axis 1 along +x, axis 2 along −y
  EXPECT_EQ(axis_codes(Affine{{{0, 2, 0, 0}, {0, 0, -1, 0}, {-3, 0, 0, 0}}}), "IRP");
  // oblique: 20° about z keeps the closest axes
  const double c = std::cos(0.35), s = std::sin(0.35);
  EXPECT_EQ(axis_codes(Affine{{{c, -s, 0, 0}, {s, c, 0, 0}, {0, 0, 1, 0}}}), "RAS");
  EXPECT_TRUE(valid_axis_codes("PIR"));
  EXPECT_FALSE(valid_axis_codes("RRS"));
  EXPECT_FALSE(valid_axis_codes("RA"));
  EXPECT_FALSE(valid_axis_codes("XYZ"));
  EXPECT_THROW(reorientation("RAS", "RSS"), std::invalid_argument);
}

TEST(Orientation, ReorientKeepsEveryVoxelAtItsWorldPosition) {
  const Affine a{{{0, 0.9, 0, -10}, {0, 0, -2.5, 20}, {-1.1, 0, 0, 5}}};  // "IRP"
  const Volume v = test_volume(a);
  const std::string from = axis_codes(v);
  ASSERT_EQ(from, "IRP");
  for (const char* to : {"RAS", "LPS", "PIR", "SAL", "IRP"}) {
    SCOPED_TRACE(to);
    const Reorientation r = reorientation(from, to);
    const Volume o = reorient(v, r);
    EXPECT_EQ(axis_codes(o), to);
    EXPECT_EQ(o.voxels(), v.voxels());
    EXPECT_EQ(o.channels, 2);
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(o.dims[j], v.dims[r.perm[j]]);
      EXPECT_DOUBLE_EQ(o.spacing[j], v.spacing[r.perm[j]]);
    }
    // every voxel of the new grid holds the value of the old voxel at the same world position
    for (int64_t k = 0; k < o.nz(); ++k)
      for (int64_t j = 0; j < o.ny(); ++j)
        for (int64_t i = 0; i < o.nx(); ++i) {
          const auto w = world(o.affine, i, j, k);
          bool found = false;
          for (int64_t z = 0; z < v.nz() && !found; ++z)
            for (int64_t y = 0; y < v.ny() && !found; ++y)
              for (int64_t x = 0; x < v.nx() && !found; ++x) {
                const auto u = world(v.affine, x, y, z);
                if (std::fabs(u[0] - w[0]) + std::fabs(u[1] - w[1]) + std::fabs(u[2] - w[2]) < 1e-9) {
                  found = true;
                  for (int64_t c = 0; c < 2; ++c)
                    EXPECT_EQ(o.data[static_cast<size_t>(c * o.voxels() + o.index(i, j, k))],
                              v.data[static_cast<size_t>(c * v.voxels() + v.index(x, y, z))]);
                }
              }
          EXPECT_TRUE(found) << i << "," << j << "," << k;
        }
    const Volume back = reorient_back(o, r);
    EXPECT_EQ(back.dims, v.dims);
    EXPECT_EQ(back.data, v.data);
    for (int rr = 0; rr < 3; ++rr)
      for (int cc = 0; cc < 4; ++cc) EXPECT_NEAR(back.affine[rr][cc], v.affine[rr][cc], 1e-12);
  }
  EXPECT_TRUE(reorientation("IRP", "IRP").identity());
  EXPECT_EQ(reorientation("LPS", "RAS").describe(), "axes (0, 1, 2), flip axis 0, flip axis 1");
}
