// Distance maps D1/D2/D3 and contour maps (hand cases and brute force), one-hot Sobel edges (hand cases, including
// the cancellation at a lone voxel), and the paper-2 degradations (noise statistics, Poisson draws, determinism).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "data/metrics/distance_transform.h"
#include "data/transforms/degrade.h"
#include "data/transforms/distance_maps.h"
#include "data/transforms/edges.h"
#include "data/transforms/filters.h"
#include "test_util.h"

using namespace seg;

namespace {
Volume square_7x7() {  // 3×3 mask at x, y ∈ 2..4
  Volume v = Volume::make({7, 7, 1});
  for (int64_t y = 2; y <= 4; ++y)
    for (int64_t x = 2; x <= 4; ++x) v.at(x, y, 0) = 1;
  return v;
}
}  // namespace

TEST(DistanceMaps, D1D2D3OnASquare) {
  const Volume m = square_7x7();
  const Volume d1 = distance_map(m, DistanceVariant::D1), d2 = distance_map(m, DistanceVariant::D2),
               d3 = distance_map(m, DistanceVariant::D3);
  EXPECT_EQ(d1.at(3, 3, 0), 0.f);                       // inside: 0
  EXPECT_NEAR(d1.at(0, 0, 0), std::sqrt(8.0), 1e-6);    // to the corner (2, 2)
  EXPECT_NEAR(d1.at(0, 3, 0), 2, 1e-6);
  EXPECT_NEAR(d2.at(3, 3, 0), 1, 1e-6);                 // centre: one step from the boundary ring
  EXPECT_EQ(d2.at(2, 3, 0), 0.f);                       // on the boundary
  EXPECT_NEAR(d2.at(0, 3, 0), 2, 1e-6);
  EXPECT_NEAR(d3.at(3, 3, 0), -1, 1e-6);                // signed: negative inside
  EXPECT_NEAR(d3.at(6, 6, 0), std::sqrt(8.0), 1e-6);
  const Volume n3 = distance_map(m, DistanceVariant::D3, -1, true, true);
  EXPECT_NEAR(n3.at(3, 3, 0), -1 / std::sqrt(8.0), 1e-6);
  EXPECT_NEAR(n3.at(0, 0, 0), 1, 1e-6);
  EXPECT_EQ(parse_distance_variant("d2"), DistanceVariant::D2);
  EXPECT_THROW(parse_distance_variant("D4"), std::invalid_argument);
}

TEST(DistanceMaps, PerSliceVersus3DAndSpacingAndEmpty) {
  Volume m = Volume::make({5, 5, 2}, {1, 1, 3});
  m.at(2, 2, 0) = 4;
  const Volume ps = distance_map(m, DistanceVariant::D1, 4, true), v3 = distance_map(m, DistanceVariant::D1, 4, false);
  EXPECT_EQ(ps.at(2, 2, 1), 0.f);   // empty slice: 0 (no boundary to measure to)
  EXPECT_NEAR(v3.at(2, 2, 1), 3, 1e-6);  // 3-D: one slice of 3 mm away
  EXPECT_NEAR(v3.at(0, 2, 1), std::hypot(2.0, 3.0), 1e-6);
  EXPECT_EQ(distance_map(m, DistanceVariant::D3, 7).data, std::vector<float>(50, 0.f));  // label absent
}

TEST(ContourMap, BoundaryDilatedByDiskMatchesBruteForce) {
  std::mt19937 g(11);
  Volume m = Volume::make({17, 13, 2});
  for (int64_t z = 0; z < 2; ++z)
    for (int64_t y = 0; y < 13; ++y)
      for (int64_t x = 0; x < 17; ++x) m.at(x, y, z) = std::hypot(x - 8.0 - z, y - 6.0) < 4.5 + (g() % 3) * 0.3;
  for (double r : {0.0, 1.0, 2.5}) {
    const Volume c = contour_map(m, r);
    for (int64_t z = 0; z < 2; ++z) {
      std::vector<uint8_t> s(17 * 13);
      for (int64_t i = 0; i < 17 * 13; ++i) s[static_cast<size_t>(i)] = m.data[static_cast<size_t>(z * 221 + i)] != 0;
      const auto b = surface_of(s, {17, 13, 1});
      for (int64_t y = 0; y < 13; ++y)
        for (int64_t x = 0; x < 17; ++x) {
          bool near = false;
          for (int64_t i = 0; i < 221; ++i)
            if (b[static_cast<size_t>(i)] && std::hypot(static_cast<double>(i % 17 - x), static_cast<double>(i / 17 - y)) <= r) near = true;
          ASSERT_EQ(c.at(x, y, z) != 0, near) << "r " << r << " at " << x << "," << y << "," << z;
        }
    }
  }
}

TEST(SobelEdges, HandCases2DAnd3D) {
  Volume l = Volume::make({6, 6, 1});
  for (int64_t y = 2; y <= 3; ++y)
    for (int64_t x = 2; x <= 3; ++x) l.at(x, y, 0) = 1;
  const Volume e = sobel_edges_onehot(l, 2);
  int64_t n0 = 0, n1 = 0;
  for (int64_t i = 0; i < 36; ++i) n0 += e.data[static_cast<size_t>(i)] != 0, n1 += e.data[static_cast<size_t>(36 + i)] != 0;
  EXPECT_EQ(n1, 16);  // the 4×4 box around the 2×2 square
  EXPECT_EQ(n0, 36);  // background: the same box plus the image border (zero padding)
  const Volume u = sobel_edges(l, 2);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 6; ++x) EXPECT_EQ(u.at(x, y, 0) != 0, x >= 1 && x <= 4 && y >= 1 && y <= 4);
  // a lone voxel: its own gradient cancels (symmetric window), its 26 neighbours are edges
  Volume v = Volume::make({5, 5, 5});
  v.at(2, 2, 2) = 1;
  const Volume ev = sobel_edges(v, 2);
  int64_t n = 0;
  for (float x : ev.data) n += x != 0;
  EXPECT_EQ(n, 26);
  EXPECT_EQ(ev.at(2, 2, 2), 0.f);
  EXPECT_THROW(sobel_edges(v, 1), std::invalid_argument);
}

TEST(Degrade, GaussianNoiseStatisticsAndDeterminism) {
  Volume v = Volume::make({200, 200, 1}, {1, 1, 1}, 0.5f);
  const Volume n = degrade_gaussian_noise(v, 0.1, 3);
  double s = 0, s2 = 0;
  for (float x : n.data) s += x - 0.5, s2 += (x - 0.5) * (x - 0.5);
  const double mean = s / 40000, sd = std::sqrt(s2 / 40000 - mean * mean);
  EXPECT_NEAR(mean, 0, 0.003);
  EXPECT_NEAR(sd, 0.1, 0.003);
  EXPECT_EQ(degrade_gaussian_noise(v, 0.1, 3).data, n.data);
  EXPECT_NE(degrade_gaussian_noise(v, 0.1, 4).data, n.data);
  const Volume big = degrade_gaussian_noise(v, 2.0, 1);
  for (float x : big.data) ASSERT_TRUE(x >= 0 && x <= 1);  // clipped to [0, 1]
}

TEST(Degrade, PoissonDrawsHaveTheRightMomentsBothRegimes) {
  for (double lam : {0.7, 3.5, 29.0, 30.0, 100.0, 250.0}) {
    double s = 0, s2 = 0;
    const int N = 100000;
    for (int i = 0; i < N; ++i) {
      const double k = static_cast<double>(poisson_draw(lam, 9, static_cast<uint64_t>(i)));
      s += k, s2 += k * k;
    }
    const double mean = s / N, var = s2 / N - mean * mean;
    EXPECT_NEAR(mean, lam, 5 * std::sqrt(lam / N)) << lam;
    EXPECT_NEAR(var / lam, 1, 0.03) << lam;
  }
  // P(k = λ) for λ = 40 (the PTRS branch) against the pmf
  int hits = 0;
  const int N = 200000;
  for (int i = 0; i < N; ++i) hits += poisson_draw(40, 2, static_cast<uint64_t>(i)) == 40;
  const double pmf = std::exp(40 * std::log(40.0) - 40 - std::lgamma(41.0));
  EXPECT_NEAR(static_cast<double>(hits) / N, pmf, 5 * std::sqrt(pmf / N));
}

TEST(Degrade, ShotNoiseAndBlur) {
  Volume v = Volume::make({100, 100, 1}, {1, 1, 1}, 0.5f);
  const Volume s = degrade_shot_noise(v, 30, 1);
  double m = 0, m2 = 0;
  for (float x : s.data) {
    m += x, m2 += x * x;
    ASSERT_NEAR(x * 30, std::round(x * 30), 1e-4);  // multiples of 1/c
  }
  m /= 1e4;
  EXPECT_NEAR(m, 0.5, 0.005);
  EXPECT_NEAR(m2 / 1e4 - m * m, 15.0 / 900, 0.0015);  // Var(Poisson(15)/30)
  Volume img = Volume::make({9, 9, 1});
  img.at(4, 4, 0) = 1;
  const Volume b = degrade_gaussian_blur(img, 1.0);
  EXPECT_EQ(b.data, gaussian_blur_2d(img, 1.0).data);  // values already in [0, 1]: clipping changes nothing
  EXPECT_LT(b.at(4, 4, 0), 1.f);
  double total = 0;
  for (float x : b.data) total += x;
  EXPECT_NEAR(total, 1, 1e-5);  // the kernel keeps mass away from the border
}
