// The SegTHOR-like phantom: deterministic per (seed, patient), SegTHOR's label set and geometry, heart areas at
// 256×256 within the paper's bounds [210, 7800], and realistic intensities per structure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "data/phantoms/segthor_phantom.h"

using namespace seg;

TEST(SegthorPhantom, DeterministicPerSeedAndPatient) {
  SegthorPhantomOptions o;
  o.nx = o.ny = 48;
  o.nz = 20;
  auto [a, la] = make_segthor_patient(3, 1, o);
  auto [b, lb] = make_segthor_patient(3, 1, o);
  auto [c, lc] = make_segthor_patient(3, 2, o);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(la.data, lb.data);
  EXPECT_NE(a.data, c.data);
}

TEST(SegthorPhantom, HeartAreasAtPaperSizeWithinTheBoundsAndLabelsAsSegthor) {
  SegthorPhantomOptions o;
  o.nx = o.ny = 256;
  for (int patient = 0; patient < 4; ++patient) {
    auto [ct, gt] = make_segthor_patient(0, patient, o);
    EXPECT_NEAR(ct.spacing[2], 2.5, 1e-12);
    EXPECT_GT(ct.spacing[0] * 512, 0.9 * 512 * 0.9);   // SegTHOR's 0.9–1.4 mm at 512²
    EXPECT_LT(ct.spacing[0] * 512, 1.4 * 512 * 2.1);
    const int64_t P = ct.nx() * ct.ny();
    int heart_slices = 0;
    std::map<int, int64_t> count;
    std::map<int, double> hu;
    for (int64_t z = 0; z < ct.nz(); ++z) {
      int64_t area = 0;
      for (int64_t i = 0; i < P; ++i) {
        const int l = static_cast<int>(gt.data[static_cast<size_t>(z * P + i)]);
        count[l]++;
        hu[l] += ct.data[static_cast<size_t>(z * P + i)];
        area += l == 2;
      }
      if (area > 0) {
        ++heart_slices;
        EXPECT_GE(area, 210) << "patient " << patient << " slice " << z;
        EXPECT_LE(area, 7800) << "patient " << patient << " slice " << z;
      }
    }
    EXPECT_GT(heart_slices, ct.nz() / 5);
    EXPECT_LT(heart_slices, ct.nz() * 3 / 5);
    for (int l = 1; l <= 4; ++l) EXPECT_GT(count[l], 0) << "label " << l << " missing";
    EXPECT_LT(hu[3] / count[3], -300);            // trachea: mostly air
    EXPECT_GT(hu[4] / count[4], 80);              // aorta: contrast-filled
    EXPECT_GT(hu[2] / count[2], 30);              // heart: blood and myocardium
    EXPECT_NEAR(hu[1] / count[1], 0, 150);        // esophagus: soft tissue (sometimes air)
  }
}
