// Dice/HD/ASSD on hand-made masks, a Hausdorff case whose farthest point is interior, empty-mask conventions, and
// the paired t-test against scipy.stats.ttest_rel (the EDT and random-mask comparisons with scipy live in
// tests/data_processing/test_metrics_edt.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "data/metrics/distance_transform.h"
#include "data/metrics/segmentation_metrics.h"

using namespace seg;

namespace {

double brute_distance(const std::vector<uint8_t>& t, const std::array<int64_t, 3>& d, const std::array<double, 3>& s,
                      int64_t x, int64_t y, int64_t z) {
  double best = std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i)
        if (t[static_cast<size_t>(i + d[0] * (j + d[1] * k))])
          best = std::min(best, std::hypot((i - x) * s[0], (j - y) * s[1], (k - z) * s[2]));
  return best;
}

bool python_with(const char* module) {
  const std::string c = std::string("/usr/bin/python3 -c 'import ") + module + "' >/dev/null 2>&1";
  return std::system(c.c_str()) == 0;
}

}  // namespace

TEST(Metrics, HandMadeCases) {
  // 1-D-like line of 10 voxels, spacing 2 mm: A = {0..3}, B = {2..7}
  std::vector<uint8_t> a(10, 0), b(10, 0);
  for (int i = 0; i <= 3; ++i) a[static_cast<size_t>(i)] = 1;
  for (int i = 2; i <= 7; ++i) b[static_cast<size_t>(i)] = 1;
  auto s = binary_scores(a.data(), b.data(), {10, 1, 1}, {2, 1, 1});
  EXPECT_NEAR(s.dice, 2.0 * 2 / (4 + 6), 1e-12);
  EXPECT_NEAR(s.jaccard, 2.0 / 8, 1e-12);
  EXPECT_NEAR(s.hd, 4 * 2.0, 1e-12);  // voxel 7 of B is 4 voxels from A's voxel 3
  // surfaces (2-D, 4-neighbour, image border counts): every voxel of a 1-pixel-high line is surface
  // S_A→S_B: {0:2,1:1,2:0,3:0}·2mm; S_B→S_A: {2:0,3:0,4:1,5:2,6:3,7:4}·2mm → ASSD = (3/4·2 + 10/6·2)/2
  EXPECT_NEAR(s.assd, 0.5 * (3.0 / 4 * 2 + 10.0 / 6 * 2), 1e-12);
  auto both_empty = binary_scores(std::vector<uint8_t>(4, 0).data(), std::vector<uint8_t>(4, 0).data(), {2, 2, 1}, {1, 1, 1});
  EXPECT_EQ(both_empty.dice, 1.0);
  EXPECT_EQ(both_empty.hd, 0.0);
  auto one_empty = binary_scores(std::vector<uint8_t>(4, 0).data(), std::vector<uint8_t>{0, 1, 0, 0}.data(), {2, 2, 1}, {1, 1, 1});
  EXPECT_EQ(one_empty.dice, 0.0);
  EXPECT_TRUE(std::isinf(one_empty.hd));
  EXPECT_TRUE(std::isinf(one_empty.hd95));
}

TEST(Metrics, HausdorffIsNotOnlyBetweenSurfaces) {
  // B is a ring, A a filled disc inside it: the farthest point of A from B is the centre, an interior point of A.
  const int64_t n = 21;
  std::vector<uint8_t> a(static_cast<size_t>(n * n), 0), b(static_cast<size_t>(n * n), 0);
  for (int64_t y = 0; y < n; ++y)
    for (int64_t x = 0; x < n; ++x) {
      const double r = std::hypot(x - 10.0, y - 10.0);
      if (r <= 6) a[static_cast<size_t>(y * n + x)] = 1;
      if (r >= 8.5 && r <= 9.5) b[static_cast<size_t>(y * n + x)] = 1;
    }
  auto s = binary_scores(a.data(), b.data(), {n, n, 1}, {1, 1, 1});
  EXPECT_NEAR(s.hd, brute_distance(b, {n, n, 1}, {1, 1, 1}, 10, 10, 0), 1e-9);
  EXPECT_GT(s.hd, 8.0);
}

TEST(Metrics, PairedTTestAgreesWithScipy) {
  const std::vector<double> a{0.82, 0.79, 0.91, 0.66, 0.85}, b{0.80, 0.75, 0.90, 0.70, 0.81};
  const double p = paired_t_test_p(a, b);
  if (python_with("scipy.stats")) {
    FILE* f = popen("/usr/bin/python3 -c 'from scipy.stats import ttest_rel; print(ttest_rel([0.82,0.79,0.91,0.66,0.85],[0.80,0.75,0.90,0.70,0.81]).pvalue)'", "r");
    double ref = 0;
    ASSERT_EQ(std::fscanf(f, "%lf", &ref), 1);
    pclose(f);
    EXPECT_NEAR(p, ref, 1e-9);
  }
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 1.0);
  EXPECT_EQ(paired_t_test_p(a, a), 1.0);
  EXPECT_THROW(paired_t_test_p({1.0}, {2.0}), std::invalid_argument);
}
