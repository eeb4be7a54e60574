// Connected components (data/transforms/components.h): against a breadth-first flood fill on random masks of several
// densities and odd shapes, for 6- and 26-connectivity; diagonal contacts; and keep_largest_component.
#include <gtest/gtest.h>

#include <queue>
#include <random>

#include "data/transforms/components.h"

using namespace seg;

namespace {

// Reference: flood fill from each unvisited voxel in raster order (ids in order of first appearance, as the tool).
std::vector<int32_t> flood_fill(const std::vector<uint8_t>& m, std::array<int64_t, 3> d, int conn) {
  std::vector<int32_t> lab(m.size(), 0);
  int32_t next = 0;
  for (int64_t start = 0; start < static_cast<int64_t>(m.size()); ++start) {
    if (!m[static_cast<size_t>(start)] || lab[static_cast<size_t>(start)]) continue;
    lab[static_cast<size_t>(start)] = ++next;
    std::queue<int64_t> q;
    q.push(start);
    while (!q.empty()) {
      const int64_t i = q.front();
      q.pop();
      const int64_t x = i % d[0], y = (i / d[0]) % d[1], z = i / (d[0] * d[1]);
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int manhattan = std::abs(dx) + std::abs(dy) + std::abs(dz);
            if (manhattan == 0 || (conn == 6 && manhattan != 1)) continue;
            const int64_t xx = x + dx, yy = y + dy, zz = z + dz;
            if (xx < 0 || yy < 0 || zz < 0 || xx >= d[0] || yy >= d[1] || zz >= d[2]) continue;
            const int64_t j = xx + d[0] * (yy + d[1] * zz);
            if (m[static_cast<size_t>(j)] && !lab[static_cast<size_t>(j)]) {
              lab[static_cast<size_t>(j)] = next;
              q.push(j);
            }
          }
    }
  }
  return lab;
}

}  // namespace

TEST(Components, MatchFloodFillOnRandomMasks) {
  std::mt19937 rng(7);
  for (const auto& d : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 5, 3}, {13, 11, 9}, {1, 17, 6}, {20, 1, 1}})
    for (double density : {0.1, 0.3, 0.5, 0.8})
      for (int conn : {6, 26}) {
        std::vector<uint8_t> m(static_cast<size_t>(d[0] * d[1] * d[2]));
        std::bernoulli_distribution b(density);
        for (auto& v : m) v = b(rng);
        std::vector<int32_t> got;
        const auto ref = flood_fill(m, d, conn);
        const int64_t n = label_components(m.data(), d, got, conn);
        EXPECT_EQ(got, ref) << d[0] << "x" << d[1] << "x" << d[2] << " density " << density << " conn " << conn;
        EXPECT_EQ(n, ref.empty() ? 0 : *std::max_element(ref.begin(), ref.end()));
      }
}

TEST(Components, DiagonalContactJoinsOnlyUnder26) {
  const std::array<int64_t, 3> d{4, 4, 4};
  std::vector<uint8_t> m(64, 0);
  m[0 + 4 * (0 + 4 * 0)] = 1;  // (0,0,0)
  m[1 + 4 * (1 + 4 * 1)] = 1;  // (1,1,1): corner contact
  m[3 + 4 * (3 + 4 * 0)] = 1;  // (3,3,0): alone
  std::vector<int32_t> l;
  EXPECT_EQ(label_components(m.data(), d, l, 26), 2);
  EXPECT_EQ(label_components(m.data(), d, l, 6), 3);
  EXPECT_THROW(label_components(m.data(), d, l, 18), std::invalid_argument);
}

TEST(Components, KeepLargestDropsTheSpeckles) {
  const std::array<int64_t, 3> d{10, 10, 5};
  std::vector<uint8_t> m(500, 0);
  for (int64_t z = 1; z < 4; ++z)
    for (int64_t y = 2; y < 6; ++y)
      for (int64_t x = 2; x < 6; ++x) m[static_cast<size_t>(x + 10 * (y + 10 * z))] = 1;  // 48 voxels
  m[9 + 10 * (9 + 10 * 4)] = 1;                                                          // speckle far away
  m[8 + 10 * (0 + 10 * 0)] = m[9 + 10 * (0 + 10 * 0)] = 1;                              // 2-voxel speckle
  const auto k = keep_largest_component(m.data(), d);
  int64_t kept = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    kept += k[i];
    if (k[i]) {
      EXPECT_TRUE(m[i]);
    }
  }
  EXPECT_EQ(kept, 48);
  EXPECT_EQ(k[9 + 10 * (9 + 10 * 4)], 0);
  const std::vector<uint8_t> empty(500, 0);
  EXPECT_EQ(keep_largest_component(empty.data(), d), empty);
}
