// Paper 1's data (apps/paper1/data.h): the ACDC phantom's left-ventricular cavity areas at 256² lie within the paper's
// size bounds [97.9, 1722] (as the SegTHOR phantom's heart lies within [210, 7800], tests/data_metrics); the loaders
// split by patient through data/datasets (ED and ES frames of a patient on one side; SegTHOR 6 / 4 with the rest left
// out) and give every training slice with the organ one seed disc and the bounds.
#include <gtest/gtest.h>

#include <set>

#include "apps/paper1/data.h"
#include "data/phantoms/acdc_phantom.h"
#include "data/transforms/weak_labels.h"

using namespace seg;

TEST(Paper1Data, AcdcPhantomLvAreasAt256WithinThePaperBounds) {
  int lv_slices = 0;
  for (int patient = 0; patient < 12; ++patient)
    for (bool es : {false, true}) {
      const auto [img, gt] = make_acdc_frame(0, patient, es);  // the patient's native grid (about 216–256 px)
      const std::vector<int64_t> areas = slice_areas(gt, 3, 256);  // each slice resized to 256² (nearest), label 3
      for (size_t z = 0; z < areas.size(); ++z) {
        if (areas[z] == 0) continue;
        ++lv_slices;
        EXPECT_GE(areas[z], 97.9) << "patient " << patient << (es ? " ES" : " ED") << " slice " << z;
        EXPECT_LE(areas[z], 1722) << "patient " << patient << (es ? " ES" : " ED") << " slice " << z;
      }
    }
  EXPECT_GT(lv_slices, 12 * 2 * 5);  // most short-axis slices cut the cavity
}

TEST(Paper1Data, AcdcSplitKeepsFramesOfAPatientTogetherAndBoundsAt256) {
  Paper1DataOptions o;
  o.dataset = Paper1Dataset::ACDC;
  o.phantom_patients = 8;
  o.size = 256;
  const Paper1Data d = load_paper1_data(o);
  EXPECT_EQ(d.train.size(), 12u);  // 75 % of 8 patients = 6 patients, 2 frames each
  EXPECT_EQ(d.val.size(), 4u);
  std::set<std::string> tp, vp;
  for (const auto& s : d.train) tp.insert(s.id.substr(0, 10));
  for (const auto& s : d.val) vp.insert(s.id.substr(0, 10));
  for (const auto& p : vp) EXPECT_FALSE(tp.count(p)) << p << " is on both sides of the split";
  // bounds from the training ground truth at 256² lie within the paper's
  EXPECT_GE(d.bounds[0], 97.9);
  EXPECT_LE(d.bounds[1], 1722);
  for (const auto& s : d.train) {
    EXPECT_EQ(s.height, 256);
    for (int64_t z = 0; z < s.slices; ++z) {
      const auto& b = s.bounds[static_cast<size_t>(z * 2 + 1)];
      if (s.has_class(z, 1)) {
        EXPECT_EQ(b, d.bounds);
        const int64_t P = s.pixels();
        EXPECT_GE(std::count(s.seeds.begin() + z * P, s.seeds.begin() + (z + 1) * P, 1), 1);
      } else {
        EXPECT_EQ(b, (std::array<double, 2>{0, 0}));
      }
    }
  }
}

TEST(Paper1Data, SegthorSplitIsSixFourAndTheRestLeftOut) {
  Paper1DataOptions o;
  o.dataset = Paper1Dataset::SegTHOR;
  o.phantom_patients = 12;
  o.phantom_slice_mm = 20;
  o.size = 32;
  const Paper1Data d = load_paper1_data(o);
  EXPECT_EQ(d.train.size(), 6u);
  EXPECT_EQ(d.val.size(), 4u);
  EXPECT_EQ(d.left_out.size(), 2u);
  const Paper1Data again = load_paper1_data(o);
  for (size_t i = 0; i < d.val.size(); ++i) EXPECT_EQ(d.val[i].id, again.val[i].id);  // the same split every time
  o.val_patients = 0;  // every patient not used for training validates
  EXPECT_EQ(load_paper1_data(o).val.size(), 6u);
  o.train_patients = 12;
  EXPECT_THROW(load_paper1_data(o), std::exception);
}
