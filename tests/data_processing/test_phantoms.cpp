// Phantoms: determinism per (seed, case), SegTHOR's heart areas at 256×256 inside the paper's bounds [210, 7800]
// over several patients, the physical field of view kept on a coarse grid, and the official layout written to disk
// read back by the data-set loader.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <filesystem>
#include <set>
#include <vector>

#include <unistd.h>

#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/phantoms/phantoms.h"
#include "data/phantoms/segthor_phantom.h"
#include "data/phantoms/xray_phantoms.h"
#include "data/transforms/weak_labels.h"

using namespace seg;

TEST(SegthorPhantom, DeterministicAndDistinct) {
  SegthorPhantomOptions o;
  o.nx = o.ny = 40;
  o.nz = 16;
  const auto a = make_segthor_patient(11, 3, o), b = make_segthor_patient(11, 3, o);
  EXPECT_EQ(a.first.data, b.first.data);
  EXPECT_EQ(a.second.data, b.second.data);
  EXPECT_NE(make_segthor_patient(12, 3, o).first.data, a.first.data);
  EXPECT_NE(make_segthor_patient(11, 4, o).second.data, a.second.data);
  EXPECT_EQ(a.first.datatype, "int16");
  for (float v : a.first.data) ASSERT_EQ(v, std::round(v));  // HU are integers
}

TEST(SegthorPhantom, HeartAreasAt256WithinPaperBoundsOverPatients) {
  SegthorPhantomOptions o;
  o.nx = o.ny = 256;
  for (int patient = 0; patient < 6; ++patient) {
    const auto [ct, gt] = make_segthor_patient(11, patient, o);
    const auto areas = slice_areas(gt, 2, 256);
    int positive = 0;
    for (int64_t a : areas) {
      if (a == 0) continue;
      ++positive;
      EXPECT_GE(a, 210) << "patient " << patient;
      EXPECT_LE(a, 7800) << "patient " << patient;
    }
    EXPECT_GT(positive, 10) << "patient " << patient;
    EXPECT_LT(positive, static_cast<int>(areas.size())) << "every slice has heart: no negative slices";
  }
}

TEST(SegthorPhantom, CoarseGridKeepsFieldOfViewAndSpacingOption) {
  SegthorPhantomOptions full, coarse;
  full.nx = full.ny = 96;
  full.nz = 4;
  coarse = full;
  coarse.nx = coarse.ny = 48;
  const Volume a = make_segthor_patient(2, 0, full).first, b = make_segthor_patient(2, 0, coarse).first;
  EXPECT_NEAR(a.spacing[0] * 96, b.spacing[0] * 48, 1e-9);
  EXPECT_NEAR(a.affine[0][3], b.affine[0][3], 1e-9);  // both centred on the same field of view
  SegthorPhantomOptions sp = coarse;
  sp.spacing_xy = 1.1;
  EXPECT_NEAR(make_segthor_patient(2, 0, sp).first.spacing[0], 1.1, 1e-12);
}

TEST(SegthorPhantom, OfficialLayoutReadBackByTheLoader) {
  const auto dir = std::filesystem::temp_directory_path() / ("segthor_ph_" + std::to_string(getpid()));
  write_phantom("segthor", dir.string(), 2, 5, 48);
  EXPECT_TRUE(std::filesystem::exists(dir / "train" / "Patient_02" / "Patient_02.nii.gz"));
  const auto cases = list_cases("segthor", dir.string());
  ASSERT_EQ(cases.size(), 2u);
  const LoadedCase lc = load_case(cases[1]);
  ASSERT_TRUE(lc.has_label);
  SegthorPhantomOptions o;
  o.nx = o.ny = 48;
  const auto [ct, gt] = make_segthor_patient(5, 1, o);
  EXPECT_EQ(lc.images.at(0).data, ct.data);
  EXPECT_EQ(lc.label.data, gt.data);
  EXPECT_NEAR(lc.images[0].spacing[0], ct.spacing[0], 1e-5);
  EXPECT_THROW(write_phantom("nope", dir.string(), 1, 0), std::invalid_argument);
  std::filesystem::remove_all(dir);
}

// Every phantom: written in its layout at a small size, listed and loaded by the data-set loader (which checks the
// image/label grids), with the data set's label ids present, and identical when written twice.
TEST(AllPhantoms, WrittenInTheirLayoutsAndLoaded) {
  struct Spec {
    const char* name;
    const char* layout;
    int64_t size;
    std::vector<int> labels;
    size_t cases_per_patient;
  };
  const std::vector<Spec> specs = {
      {"acdc", "acdc", 48, {1, 2, 3}, 2},   {"brats19", "brats19", 48, {1, 2, 4}, 1}, {"kits19", "kits19", 64, {1, 2}, 1},
      {"promise12", "promise12", 64, {1}, 1}, {"jsrt", "jsrt", 0, {1, 2, 3}, 1},       {"polyp", "polyp", 96, {1}, 1},
      {"fundus", "fundus", 96, {1, 2}, 1}};
  for (const auto& sp : specs) {
    SCOPED_TRACE(sp.name);
    const auto dir = std::filesystem::temp_directory_path() / (std::string("ph_") + sp.name + "_" + std::to_string(getpid()));
    write_phantom(sp.name, dir.string(), 2, 3, sp.size);
    const auto cases = list_cases(sp.layout, dir.string());
    ASSERT_EQ(cases.size(), 2 * sp.cases_per_patient);
    const LoadedCase a = load_case(cases[0]);
    ASSERT_TRUE(a.has_label);
    std::set<int> seen;
    for (float v : a.label.data) seen.insert(static_cast<int>(v));
    for (int l : sp.labels) EXPECT_TRUE(seen.count(l)) << "label " << l << " missing";
    for (int l : seen) EXPECT_TRUE(l == 0 || std::find(sp.labels.begin(), sp.labels.end(), l) != sp.labels.end()) << "unexpected label " << l;
    // not constant images: some contrast between foreground and the rest
    double fg = 0, bg = 0, nfg = 0, nbg = 0;
    for (size_t i = 0; i < a.label.data.size(); ++i) {
      const double v = a.images[0].data[i];
      if (a.label.data[i] != 0) fg += v, ++nfg;
      else bg += v, ++nbg;
    }
    EXPECT_GT(std::fabs(fg / nfg - bg / nbg), 5.0);
    const auto dir2 = dir.string() + "_again";
    write_phantom(sp.name, dir2, 2, 3, sp.size);
    const LoadedCase b = load_case(list_cases(sp.layout, dir2)[0]);
    EXPECT_EQ(a.images[0].data, b.images[0].data);
    EXPECT_EQ(a.label.data, b.label.data);
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(dir2);
  }
}

// JSRT phantom with paper 2's classes: written in SCR's GIF layout and read back with the lungs kept apart, the right
// lung (1) on the image's left, the left lung (2) on its right, the heart (3) between and below; the in-memory case at
// 256² composes the same classes (the loader's composition), and the default classes are unchanged by the new layout.
TEST(JsrtPhantom, CarriesRightLungLeftLungAndHeart) {
  const auto dir = std::filesystem::temp_directory_path() / ("ph_jsrt_p2_" + std::to_string(getpid()));
  write_phantom("jsrt", dir.string(), 2, 5);
  EXPECT_TRUE(std::filesystem::exists(dir / "scratch/fold2/masks/left lung/JPCPH0002.gif"));
  const auto cases = list_cases("jsrt", dir.string());
  ASSERT_EQ(cases.size(), 2u);
  const LoadedCase lc = load_case(cases[1], LoadOptions{.jsrt = JsrtClasses::RightLeftLungHeart});
  const Volume& lab = lc.label;
  double cx[4] = {0, 0, 0, 0}, n[4] = {0, 0, 0, 0};
  for (int64_t y = 0; y < lab.ny(); ++y)
    for (int64_t x = 0; x < lab.nx(); ++x) {
      const int l = static_cast<int>(lab.at(x, y, 0));
      ASSERT_TRUE(l >= 0 && l <= 3) << "label " << l;
      cx[l] += static_cast<double>(x), n[l] += 1;
    }
  for (int l = 1; l <= 3; ++l) ASSERT_GT(n[l], 1000) << "class " << l;
  const double half = static_cast<double>(lab.nx()) / 2;
  EXPECT_LT(cx[1] / n[1], 0.8 * half);  // right lung: image left
  EXPECT_GT(cx[2] / n[2], 1.2 * half);  // left lung: image right
  EXPECT_NEAR(cx[3] / n[3], 1.1 * half, 0.2 * half);
  const auto small = make_jsrt_case(5, 1, 256, JsrtClasses::RightLeftLungHeart).second;
  std::set<int> seen(small.data.begin(), small.data.end());
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2, 3}));
  // The same anatomy with the default classes: the lungs merge into 1 and the clavicles (3) cover part of them.
  const auto merged = make_jsrt_case(5, 1, 256).second;
  for (size_t i = 0; i < small.data.size(); ++i) {
    const float a = small.data[i], b = merged.data[i];
    if (b == 1.f) {
      ASSERT_TRUE(a == 1.f || a == 2.f);
    } else if (b == 2.f) {
      ASSERT_EQ(a, 3.f);
    } else if (b == 3.f) {
      ASSERT_NE(a, 3.f);  // under a clavicle: lung or background for paper 2
    }
  }
  std::filesystem::remove_all(dir);
}
