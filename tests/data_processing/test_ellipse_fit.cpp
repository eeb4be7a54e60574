// Paper 4's data pieces: the least-squares ellipse fit (exact points on known ellipses, rasterised ellipses through
// their crack boundary, degenerate inputs, the threshold → largest component → filled ellipse post-processing), the
// ImageNet mean/std normalisation, the fundus phantom's disc/cup geometry, and the fit on the real DRIONS disc masks
// (skipped with a reason when ../shared/data/real is absent).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "data/datasets/datasets.h"
#include "data/phantoms/xray_phantoms.h"
#include "data/transforms/ellipse_fit.h"
#include "data/transforms/intensity.h"
#include "test_util.h"

using namespace seg;

namespace {
constexpr double kPi = 3.14159265358979323846;

double angle_diff(double a, double b) {  // difference of two axis angles, modulo π
  double d = std::fmod(std::fabs(a - b), kPi);
  return std::min(d, kPi - d);
}

double dice(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double i = 0, s = 0;
  for (size_t k = 0; k < a.size(); ++k) i += (a[k] && b[k]), s += (a[k] != 0) + (b[k] != 0);
  return s > 0 ? 2 * i / s : 1.0;
}
}  // namespace

TEST(EllipseFit, ExactPointsGiveTheEllipseBack) {
  const std::vector<Ellipse> known = {{40.3, 33.7, 20, 12, 0.6},  {10, -5, 7.5, 2.25, -1.2}, {0, 0, 3, 1, kPi / 2},
                                      {128.2, 96.1, 60, 59, 0.0}, {5, 6, 9, 4, -0.3}};
  for (const Ellipse& e : known) {
    std::vector<std::array<double, 2>> pts;
    for (int k = 0; k < 40; ++k) {  // uneven angles, not the full turn only
      const double t = 0.13 + 2 * kPi * (k + 0.3 * std::sin(k)) / 40;
      const double u = e.a * std::cos(t), v = e.b * std::sin(t);
      pts.push_back({e.cx + u * std::cos(e.theta) - v * std::sin(e.theta), e.cy + u * std::sin(e.theta) + v * std::cos(e.theta)});
    }
    const auto f = fit_ellipse(pts);
    ASSERT_TRUE(f.has_value());
    EXPECT_NEAR(f->cx, e.cx, 1e-7);
    EXPECT_NEAR(f->cy, e.cy, 1e-7);
    EXPECT_NEAR(f->a, e.a, 1e-7);
    EXPECT_NEAR(f->b, e.b, 1e-7);
    EXPECT_LT(angle_diff(f->theta, e.theta), 1e-7);
    // conic round trip (the constraint scaling 4AC − B² = 1)
    const auto q = ellipse_to_conic(e);
    EXPECT_NEAR(4 * q[0] * q[2] - q[1] * q[1], 1.0, 1e-12);
    const auto back = conic_to_ellipse(q);
    ASSERT_TRUE(back.has_value());
    EXPECT_NEAR(back->a, e.a, 1e-9);
    EXPECT_NEAR(back->b, e.b, 1e-9);
    EXPECT_LT(angle_diff(back->theta, e.theta), 1e-9);
    EXPECT_TRUE(back->theta > -kPi / 2 && back->theta <= kPi / 2);
  }
}

TEST(EllipseFit, RasterisedEllipsesThroughTheirCrackBoundary) {
  struct Case {
    Ellipse e;
    double centre_tol, axis_tol, angle_tol;
  };
  const std::vector<Case> cases = {{{40.3, 33.7, 20, 12, 0.6}, 0.05, 0.15, 0.02},
                                   {{64.5, 60.2, 45, 30, -0.9}, 0.05, 0.15, 0.01},
                                   {{20.1, 18.8, 8, 5, 1.3}, 0.1, 0.25, 0.06}};
  for (const auto& c : cases) {
    const int64_t nx = 130, ny = 120;
    const auto mask = rasterise_ellipse(c.e, nx, ny);
    const auto pts = mask_boundary_points(mask.data(), nx, ny);
    const auto f = fit_ellipse(pts);
    ASSERT_TRUE(f.has_value());
    EXPECT_NEAR(f->cx, c.e.cx, c.centre_tol);
    EXPECT_NEAR(f->cy, c.e.cy, c.centre_tol);
    EXPECT_NEAR(f->a, c.e.a, c.axis_tol);
    EXPECT_NEAR(f->b, c.e.b, c.axis_tol);
    EXPECT_LT(angle_diff(f->theta, c.e.theta), c.angle_tol);
    EXPECT_GT(dice(rasterise_ellipse(*f, nx, ny), mask), 0.985);
  }
}

TEST(EllipseFit, CrackBoundaryAndRasterOnHandCases) {
  // One pixel: its four edges.
  const std::vector<uint8_t> one{0, 0, 0, 0, 1, 0, 0, 0, 0};
  const auto p = mask_boundary_points(one.data(), 3, 3);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], (std::array<double, 2>{0.5, 1}));
  EXPECT_EQ(p[3], (std::array<double, 2>{1, 1.5}));
  // The image border counts as outside.
  const std::vector<uint8_t> full(4, 1);
  EXPECT_EQ(mask_boundary_points(full.data(), 2, 2).size(), 8u);
  // A circle of radius 2 at (2, 2): 13 pixel centres within distance 2.
  const auto r = rasterise_ellipse({2, 2, 2, 2, 0}, 5, 5);
  int n = 0;
  for (uint8_t v : r) n += v;
  EXPECT_EQ(n, 13);
}

TEST(EllipseFit, DegenerateInputsGiveNoEllipse) {
  EXPECT_FALSE(fit_ellipse({{0, 0}, {1, 0}, {0, 1}, {1, 1}, {2, 2}}).has_value());  // 5 points
  std::vector<std::array<double, 2>> line;
  for (int k = 0; k < 10; ++k) line.push_back({1.0 * k, 2.0 * k + 1});
  EXPECT_FALSE(fit_ellipse(line).has_value());
  EXPECT_FALSE(conic_to_ellipse({1, 0, -1, 0, 0, -1}).has_value());  // hyperbola
  EXPECT_FALSE(conic_to_ellipse({1, 0, 1, 0, 0, 1}).has_value());    // imaginary ellipse x² + y² = −1
}

TEST(EllipseFit, PostProcessingKeepsTheLargestRegionAndFillsItsEllipse) {
  const int64_t nx = 96, ny = 80;
  const Ellipse e{45.2, 40.7, 25, 16, 0.4};
  std::vector<uint8_t> m = rasterise_ellipse(e, nx, ny);
  const std::vector<uint8_t> truth = m;
  // A shallow dent in the ellipse (the outer 10% of the radius over a quarter turn) and a small blob elsewhere
  // (a false positive).
  const double c = std::cos(e.theta), s = std::sin(e.theta);
  for (int64_t j = 0; j < ny; ++j)
    for (int64_t i = 0; i < nx; ++i) {
      const double dx = i - e.cx, dy = j - e.cy, u = (c * dx + s * dy) / e.a, v = (-s * dx + c * dy) / e.b;
      const double t = std::atan2(v, u);
      if (u * u + v * v > 0.9 * 0.9 && t > 0.2 && t < 0.2 + kPi / 2) m[static_cast<size_t>(i + nx * j)] = 0;
      if (std::hypot(i - 88.0, j - 8.0) < 4) m[static_cast<size_t>(i + nx * j)] = 1;
    }
  bool fitted = false;
  Ellipse got;
  const auto out = ellipse_fit_mask(m.data(), nx, ny, &fitted, &got);
  ASSERT_TRUE(fitted);
  EXPECT_EQ(out[static_cast<size_t>(88 + nx * 8)], 0);  // the blob is gone
  EXPECT_GT(dice(out, truth), 0.96);                    // the dent is mostly filled back
  EXPECT_LT(dice(m, truth), dice(out, truth)) << dice(m, truth);
  // Nothing to fit: the largest component comes back as it is.
  std::vector<uint8_t> tiny(static_cast<size_t>(nx * ny), 0);
  EXPECT_EQ(ellipse_fit_mask(tiny.data(), nx, ny, &fitted), tiny);
  EXPECT_FALSE(fitted);
  tiny[5] = 1;
  EXPECT_EQ(ellipse_fit_mask(tiny.data(), nx, ny, &fitted), tiny);  // 4 boundary points: no fit
  EXPECT_FALSE(fitted);
}

TEST(Intensity, ImageNetMeanStdAsTorchvision) {
  Volume v = Volume::make({2, 1, 1});
  v.channels = 3;
  v.data = {0, 255, 128, 64, 255, 0};
  const Volume n = normalise_mean_std(v, kImageNetMean, kImageNetStd);
  EXPECT_NEAR(n.data[0], (0 - 0.485) / 0.229, 1e-6);
  EXPECT_NEAR(n.data[1], (1 - 0.485) / 0.229, 1e-6);
  EXPECT_NEAR(n.data[2], (128 / 255.0 - 0.456) / 0.224, 1e-6);
  EXPECT_NEAR(n.data[5], (0 - 0.406) / 0.225, 1e-6);
  EXPECT_EQ(n.datatype, "float32");
  Volume grey = Volume::make({2, 1, 1});
  EXPECT_THROW(normalise_mean_std(grey, kImageNetMean, kImageNetStd), std::invalid_argument);
  EXPECT_THROW(normalise_mean_std(v, kImageNetMean, {0.2, 0, 0.2}), std::invalid_argument);
}

// The fundus phantom has the ORIGA structures: the cup (2) inside the disc ({1, 2}), both close to ellipses.
TEST(FundusPhantom, CupInsideAnEllipticalDisc) {
  for (int idx = 0; idx < 3; ++idx) {
    const auto [img, lab] = make_fundus_case(7, idx, 256);
    const int64_t n = 256;
    std::vector<uint8_t> disc(static_cast<size_t>(n * n)), cup(disc.size());
    for (size_t i = 0; i < disc.size(); ++i) disc[i] = lab.data[i] >= 1, cup[i] = lab.data[i] == 2;
    // every cup pixel lies at least one pixel inside the disc: its 4-neighbours are disc pixels
    for (int64_t j = 1; j + 1 < n; ++j)
      for (int64_t i = 1; i + 1 < n; ++i)
        if (cup[static_cast<size_t>(i + n * j)]) {
          ASSERT_TRUE(disc[static_cast<size_t>(i - 1 + n * j)] && disc[static_cast<size_t>(i + 1 + n * j)] &&
                      disc[static_cast<size_t>(i + n * (j - 1))] && disc[static_cast<size_t>(i + n * (j + 1))]);
        }
    for (const auto* m : {&disc, &cup}) {
      bool fitted = false;
      const auto e = ellipse_fit_mask(m->data(), n, n, &fitted);
      ASSERT_TRUE(fitted);
      EXPECT_GT(dice(e, *m), 0.9) << "case " << idx;
    }
  }
}

// Real optic-disc masks (DRIONS-DB samples): each disc is close to its fitted ellipse.
TEST(EllipseFit, RealDrionsDiscMasks) {
  const std::string dir = std::string(SEG_SHARED_DIR) + "/data/real/drions_fundus_optic_disc";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent (real samples are not part of the repo)";
  const auto cases = list_cases("fundus", dir);
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    const LoadedCase lc = load_case(c);
    const int64_t nx = lc.label.nx(), ny = lc.label.ny();
    std::vector<uint8_t> m(static_cast<size_t>(nx * ny));
    for (size_t i = 0; i < m.size(); ++i) m[i] = lc.label.data[i] > 0;
    bool fitted = false;
    Ellipse e;
    const auto f = ellipse_fit_mask(m.data(), nx, ny, &fitted, &e);
    ASSERT_TRUE(fitted) << c.id;
    EXPECT_GT(dice(f, m), 0.95) << c.id;
    EXPECT_GT(e.b, 10) << c.id;  // a disc tens of pixels across, not a speck
  }
}
