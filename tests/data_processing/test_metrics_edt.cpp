// The exact EDT against brute force on random small masks (2-D and 3-D, anisotropic, sparse to dense) and against
// scipy.ndimage.distance_transform_edt; per-label scores against MedPy's definitions written with scipy on random
// masks; label_scores, summaries and the JSON form (null for infinite distances).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "data/metrics/distance_transform.h"
#include "data/metrics/label_metrics.h"
#include "test_util.h"

using namespace seg;

namespace {

std::vector<uint8_t> random_mask(const std::array<int64_t, 3>& d, double p, unsigned seed) {
  std::mt19937 g(seed);
  std::bernoulli_distribution b(p);
  std::vector<uint8_t> m(static_cast<size_t>(d[0] * d[1] * d[2]));
  for (auto& v : m) v = b(g);
  return m;
}

// Random blob masks: a few random balls (metrics need shapes, not salt noise, to be interesting).
std::vector<uint8_t> random_blobs(const std::array<int64_t, 3>& d, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<uint8_t> m(static_cast<size_t>(d[0] * d[1] * d[2]), 0);
  for (int b = 0; b < 3; ++b) {
    const double cx = u(g) * d[0], cy = u(g) * d[1], cz = u(g) * d[2], r = 1.5 + 3 * u(g);
    for (int64_t z = 0; z < d[2]; ++z)
      for (int64_t y = 0; y < d[1]; ++y)
        for (int64_t x = 0; x < d[0]; ++x)
          if (std::hypot(x - cx, y - cy, d[2] > 1 ? z - cz : 0.0) < r) m[static_cast<size_t>(x + d[0] * (y + d[1] * z))] = 1;
  }
  return m;
}

}  // namespace

TEST(EDT, MatchesBruteForceOnRandomMasks) {
  std::mt19937 g(5);
  std::uniform_real_distribution<double> sp(0.3, 3.0);
  for (unsigned seed = 0; seed < 24; ++seed) {
    const bool two_d = seed % 2 == 0;
    const std::array<int64_t, 3> d{3 + seed % 7, 2 + (seed * 5) % 6, two_d ? 1 : 2 + seed % 5};
    const std::array<double, 3> s{sp(g), sp(g), sp(g)};
    const double density = std::array<double, 4>{0.02, 0.1, 0.5, 0.95}[seed % 4];
    auto m = random_mask(d, density, seed);
    m[static_cast<size_t>(seed) % m.size()] = 1;
    const auto dt = distance_to(m, d, s);
    for (int64_t z = 0; z < d[2]; ++z)
      for (int64_t y = 0; y < d[1]; ++y)
        for (int64_t x = 0; x < d[0]; ++x) {
          double best = std::numeric_limits<double>::infinity();
          for (int64_t k = 0; k < d[2]; ++k)
            for (int64_t j = 0; j < d[1]; ++j)
              for (int64_t i = 0; i < d[0]; ++i)
                if (m[static_cast<size_t>(i + d[0] * (j + d[1] * k))])
                  best = std::min(best, std::hypot((i - x) * s[0], (j - y) * s[1], (k - z) * s[2]));
          ASSERT_NEAR(dt[static_cast<size_t>(x + d[0] * (y + d[1] * z))], best, 1e-9) << "seed " << seed;
        }
  }
}

TEST(EDT, AgreesWithScipyDistanceTransformEdt) {
  if (!seg::test::python_has("scipy.ndimage")) GTEST_SKIP() << "/usr/bin/python3 with scipy not available";
  const std::array<int64_t, 3> d{23, 17, 11};
  const auto m = random_mask(d, 0.03, 77);
  const auto dir = std::filesystem::temp_directory_path() / ("segedt_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "m.raw", std::ios::binary).write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size()));
  const std::string py =
      "import numpy as np,sys\nfrom scipy import ndimage as nd\nd=sys.argv[1]\n"
      "m=np.fromfile(d+'/m.raw',np.uint8).reshape(11,17,23)\n"
      "nd.distance_transform_edt(m==0,sampling=(2.5,0.7,1.2)).astype(np.float64).tofile(d+'/ref.raw')\n";
  std::ofstream(dir / "ref.py") << py;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + (dir / "ref.py").string() + " " + dir.string()).c_str()), 0);
  std::vector<double> ref(m.size());
  std::ifstream(dir / "ref.raw", std::ios::binary).read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * 8));
  const auto dt = distance_to(m, d, {1.2, 0.7, 2.5});
  for (size_t i = 0; i < m.size(); ++i) ASSERT_NEAR(dt[i], ref[i], 1e-9) << i;
  std::filesystem::remove_all(dir);
}

TEST(LabelMetrics, RandomMasksAgreeWithMedPyDefinitionsInScipy) {
  if (!seg::test::python_has("scipy.ndimage")) GTEST_SKIP() << "/usr/bin/python3 with scipy not available";
  const auto dir = std::filesystem::temp_directory_path() / ("seglm_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string py = R"(
import numpy as np, sys
from scipy import ndimage as nd
d, nx, ny, nz, sx, sy, sz = sys.argv[1], *map(int, sys.argv[2:5]), *map(float, sys.argv[5:8])
sp = (sz, sy, sx)
a = np.fromfile(d + '/a.raw', np.uint8).reshape(nz, ny, nx).astype(bool)
b = np.fromfile(d + '/b.raw', np.uint8).reshape(nz, ny, nx).astype(bool)
if nz == 1: a, b, sp = a[0], b[0], (sy, sx)  # 2-D: 4-neighbour surfaces, as our nz = 1 rule
fp = nd.generate_binary_structure(a.ndim, 1)
def surf(m): return m ^ nd.binary_erosion(m, structure=fp, iterations=1)
def sd(x, y): return nd.distance_transform_edt(~surf(y), sampling=sp)[surf(x)]
hd = max(nd.distance_transform_edt(~b, sampling=sp)[a].max(), nd.distance_transform_edt(~a, sampling=sp)[b].max())
ab, ba = sd(a, b), sd(b, a)
print(repr(2.0 * (a & b).sum() / (a.sum() + b.sum())), repr(hd), repr(np.percentile(np.hstack((ab, ba)), 95)), repr((ab.mean() + ba.mean()) / 2))
)";
  std::ofstream(dir / "ref.py") << py;
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const bool two_d = seed % 3 == 0;
    const std::array<int64_t, 3> d{14, 12, two_d ? 1 : 9};
    const std::array<double, 3> s{0.8 + 0.1 * seed, 1.1, 2.5};
    const auto a = random_blobs(d, seed), b = random_blobs(d, seed + 100);
    std::ofstream(dir / "a.raw", std::ios::binary).write(reinterpret_cast<const char*>(a.data()), static_cast<std::streamsize>(a.size()));
    std::ofstream(dir / "b.raw", std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    std::ostringstream cmd;
    cmd.precision(17);
    cmd << "/usr/bin/python3 " << (dir / "ref.py").string() << " " << dir.string() << " " << d[0] << " " << d[1] << " " << d[2] << " "
        << s[0] << " " << s[1] << " " << s[2];
    std::istringstream out(seg::test::run_capture(cmd.str()));
    double dice = -1, hd = -1, hd95 = -1, assd = -1;
    out >> dice >> hd >> hd95 >> assd;
    ASSERT_GE(dice, 0) << "reference script failed";
    // through label maps (labels 3 in both) as segtool does
    Volume pv = Volume::make(d, s), gv = Volume::make(d, s);
    for (size_t i = 0; i < a.size(); ++i) pv.data[i] = a[i] ? 3.f : 0.f, gv.data[i] = b[i] ? 3.f : 0.f;
    const auto sc = label_scores(pv, gv).at(3);
    EXPECT_NEAR(sc.dice, dice, 1e-12) << seed;
    EXPECT_NEAR(sc.hd, hd, 1e-9) << seed;
    EXPECT_NEAR(sc.hd95, hd95, 1e-9) << seed;
    EXPECT_NEAR(sc.assd, assd, 1e-9) << seed;
  }
  std::filesystem::remove_all(dir);
}

TEST(LabelMetrics, PerLabelHandCaseSummariesAndJson) {
  Volume p = Volume::make({6, 1, 1}, {2, 1, 1}), g = p;
  p.data = {1, 1, 0, 2, 2, 0};
  g.data = {1, 0, 0, 2, 2, 5};
  const auto s = label_scores(p, g);
  ASSERT_EQ(s.size(), 3u);  // 1, 2, 5: every label present in either map
  EXPECT_NEAR(s.at(1).dice, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.at(1).hd, 2.0, 1e-12);  // voxel 1 of the prediction is one 2-mm voxel from label 1 of the GT
  EXPECT_EQ(s.at(2).dice, 1.0);
  EXPECT_EQ(s.at(2).hd, 0.0);
  EXPECT_EQ(s.at(5).dice, 0.0);
  EXPECT_TRUE(std::isinf(s.at(5).hd));
  const auto only = label_scores(p, g, {2, 7});
  EXPECT_EQ(only.at(7).dice, 1.0);  // absent from both: Dice 1, distance 0 (documented)
  EXPECT_EQ(only.at(7).hd95, 0.0);
  const nlohmann::json j = scores_json(s);
  EXPECT_TRUE(j["labels"]["5"]["hd"].is_null());
  EXPECT_TRUE(j["labels"]["5"]["assd"].is_null());
  EXPECT_EQ(j["labels"]["5"]["dice"].get<double>(), 0.0);
  EXPECT_NEAR(j["labels"]["1"]["jaccard"].get<double>(), 0.5, 1e-12);
  EXPECT_THROW(label_scores(Volume::make({2, 1, 1}), g), std::invalid_argument);
  const Summary m = summarize({1, 2, 3, 4, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(m.n, 4);
  EXPECT_EQ(m.n_inf, 1);
  EXPECT_NEAR(m.mean, 2.5, 1e-12);
  EXPECT_NEAR(m.std, std::sqrt(5.0 / 3), 1e-12);  // sample std
}
