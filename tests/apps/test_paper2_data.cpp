// Paper 2's data module (apps/paper2/data): the paper's split sizes, phantom and on-disk splits with four classes in
// the paper's order and no case in two splits, the Table 2 training subsets, the two normalisations, the degradations
// and shifts on unit intensities, and the averaged-mask baseline against a hand computation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <unistd.h>

#include "apps/paper2/data.h"
#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/phantoms/acdc_phantom.h"
#include "data/phantoms/xray_phantoms.h"

using namespace seg;
using namespace seg::paper2;
namespace fs = std::filesystem;

namespace {

std::set<int> classes_of(const std::vector<Case2D>& cs) {
  std::set<int> s;
  for (const auto& c : cs)
    for (float f : c.labels.data) s.insert(static_cast<int>(f));
  return s;
}

std::set<std::string> ids(const std::vector<Case2D>& cs, bool patient = false) {
  std::set<std::string> s;
  for (const auto& c : cs) s.insert(patient ? c.patient : c.id);
  return s;
}

struct TmpDir {
  fs::path path = fs::temp_directory_path() / ("p2data_" + std::to_string(getpid()) + "_" + std::to_string(++counter()));
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

Case2D tiny(const std::string& id, std::vector<float> labels, int64_t w, int64_t h, int64_t slices = 1) {
  Case2D c;
  c.id = c.patient = id;
  c.labels = Volume::make({w, h, slices}, {1, 1, 1});
  c.labels.data = std::move(labels);
  c.image = Volume::make({w, h, slices}, {1, 1, 1}, 0.5f);
  return c;
}

}  // namespace

TEST(Paper2Data, PaperSplitSizes) {
  EXPECT_EQ(paper_counts(Dataset::Jsrt, 247), (std::vector<int64_t>{156, 23, 68}));
  EXPECT_EQ(paper_counts(Dataset::Acdc, 100), (std::vector<int64_t>{70, 10, 20}));
  const auto c = paper_counts(Dataset::Jsrt, 40);
  EXPECT_EQ(c[0] + c[1] + c[2], 40);
  EXPECT_GE(c[1], 1);
  EXPECT_THROW(paper_counts(Dataset::Acdc, 2), std::runtime_error);
}

TEST(Paper2Data, JsrtPhantomSplitHasTheLungsApartAndTrainingStatistics) {
  const Split s = load_split(Dataset::Jsrt, {.size = 64, .split_seed = 1, .phantom_cases = 30});
  EXPECT_EQ(s.train.size() + s.val.size() + s.test.size(), 30u);
  EXPECT_EQ(s.train.size(), 19u);
  std::set<std::string> all = ids(s.train);
  for (const auto* part : {&s.val, &s.test})
    for (const auto& c : *part) EXPECT_TRUE(all.insert(c.id).second) << c.id << " in two splits";
  EXPECT_EQ(classes_of(s.train), (std::set<int>{0, 1, 2, 3}));
  for (const auto& c : s.train) {
    ASSERT_EQ(c.image.dims, (std::array<int64_t, 3>{64, 64, 1}));
    for (float f : c.image.data) ASSERT_TRUE(f >= 0.f && f <= 1.f);
    // right lung (1) on the image's left, left lung (2) on its right: never mirrored
    double x1 = 0, n1 = 0, x2 = 0, n2 = 0;
    for (int64_t y = 0; y < 64; ++y)
      for (int64_t x = 0; x < 64; ++x) {
        const float l = c.labels.at(x, y, 0);
        if (l == 1.f) x1 += static_cast<double>(x), n1 += 1;
        if (l == 2.f) x2 += static_cast<double>(x), n2 += 1;
      }
    EXPECT_LT(x1 / n1, 32.0);
    EXPECT_GT(x2 / n2, 32.0);
  }
  const Normaliser n = fit_normaliser(Dataset::Jsrt, s.train);
  double m = 0, q = 0, k = 0;
  for (const auto& c : s.train)
    for (float f : n.apply(c.image).data) m += f, q += static_cast<double>(f) * f, k += 1;
  EXPECT_NEAR(m / k, 0.0, 1e-4);
  EXPECT_NEAR(q / k, 1.0, 1e-3);
  // the same seeds give the same split; Table 2's subsets are part of the training split
  const Split again = load_split(Dataset::Jsrt, {.size = 64, .split_seed = 1, .phantom_cases = 30});
  EXPECT_EQ(ids(again.test), ids(s.test));
  EXPECT_EQ(again.train[3].image.data, s.train[3].image.data);
  const Split five = load_split(Dataset::Jsrt, {.size = 64, .split_seed = 1, .train_subset = 5, .phantom_cases = 30});
  ASSERT_EQ(five.train.size(), 5u);
  for (const auto& id : ids(five.train)) EXPECT_TRUE(ids(s.train).count(id)) << id;
  EXPECT_EQ(ids(five.val), ids(s.val));
  EXPECT_THROW(load_split(Dataset::Jsrt, {.size = 64, .train_subset = 50, .phantom_cases = 30}), std::runtime_error);
  EXPECT_THROW(load_split(Dataset::Jsrt, {.size = 60, .phantom_cases = 30}), std::runtime_error);
}

TEST(Paper2Data, JsrtFromScrGifLayoutOnDisk) {
  TmpDir t;
  write_jsrt_phantom(t.path.string(), 3, 9);
  const Split s = load_split(Dataset::Jsrt, {.size = 32, .dir = t.path.string()});
  ASSERT_EQ(s.train.size() + s.val.size() + s.test.size(), 3u);
  EXPECT_EQ(s.source, t.path.string());
  std::vector<Case2D> all = s.train;
  all.insert(all.end(), s.val.begin(), s.val.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  EXPECT_EQ(classes_of(all), (std::set<int>{0, 1, 2, 3}));
}

TEST(Paper2Data, AcdcPhantomAndLayoutMapToThePapersClassOrder) {
  const Split s = load_split(Dataset::Acdc, {.size = 48, .split_seed = 2, .phantom_cases = 10});
  EXPECT_EQ(classes_of(s.train), (std::set<int>{0, 1, 2, 3}));
  // both frames of a subject in the same split
  for (const auto* a : {&s.train, &s.val, &s.test})
    for (const auto* b : {&s.train, &s.val, &s.test})
      if (a != b) {
        for (const auto& p : ids(*a, true)) EXPECT_FALSE(ids(*b, true).count(p)) << p;
      }
  EXPECT_EQ(s.train.size() % 2, 0u);
  const Normaliser n = fit_normaliser(Dataset::Acdc, s.train);
  const Volume z = n.apply(s.train[0].image);
  const size_t plane = 48 * 48;
  for (int64_t k = 0; k < z.nz(); ++k) {
    double m = 0, q = 0;
    for (size_t i = 0; i < plane; ++i) m += z.data[k * plane + i], q += static_cast<double>(z.data[k * plane + i]) * z.data[k * plane + i];
    EXPECT_NEAR(m / plane, 0.0, 1e-4);
    EXPECT_NEAR(q / plane, 1.0, 1e-3);
  }
  // Through ACDC's layout on disk: LV (ACDC id 3) becomes 1, RV (1) becomes 2, myocardium (2) becomes 3.
  TmpDir t;
  write_acdc_phantom(t.path.string(), 3, 4, {.nx = 48});
  const Split d = load_split(Dataset::Acdc, {.size = 48, .dir = t.path.string()});
  std::map<std::string, std::string> label_path;
  for (const auto& k : list_cases("acdc", t.path.string())) label_path[k.id] = k.label_path;
  std::vector<Case2D> all = d.train;
  all.insert(all.end(), d.val.begin(), d.val.end());
  all.insert(all.end(), d.test.begin(), d.test.end());
  ASSERT_EQ(all.size(), label_path.size());
  for (const auto& c : all) {
    const Volume gt = read_image(label_path.at(c.id));
    ASSERT_EQ(gt.data.size(), c.labels.data.size());
    for (size_t i = 0; i < gt.data.size(); ++i) {
      const int want = gt.data[i] == 3.f ? 1 : gt.data[i] == 1.f ? 2 : gt.data[i] == 2.f ? 3 : 0;
      ASSERT_EQ(c.labels.data[i], static_cast<float>(want)) << c.id << " voxel " << i;
    }
  }
}

TEST(Paper2Data, DegradationsAndShiftsOnUnitIntensities) {
  const Split s = load_split(Dataset::Jsrt, {.size = 32, .phantom_cases = 6});
  const Case2D& c = s.test[0];
  const auto specs = paper_degradations(32);
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].levels, (std::vector<double>{0.04, 0.08, 0.12, 0.15, 0.18}));
  EXPECT_EQ(specs[2].levels, (std::vector<double>{250, 100, 50, 30, 15}));
  EXPECT_DOUBLE_EQ(specs[1].levels[4], 2.0);  // 16 px on 256², scaled to 32
  for (const auto& spec : specs) {
    SCOPED_TRACE(spec.key);
    const Case2D d = degrade(c, spec.kind, spec.levels[4], 7);
    EXPECT_EQ(d.labels.data, c.labels.data);
    EXPECT_NE(d.image.data, c.image.data);
    for (float f : d.image.data) ASSERT_TRUE(f >= 0.f && f <= 1.f);
    EXPECT_EQ(degrade(c, spec.kind, spec.levels[4], 7).image.data, d.image.data);  // deterministic
    double mad = 0, mad_weak = 0;
    const Case2D w = degrade(c, spec.kind, spec.levels[0], 7);
    for (size_t i = 0; i < c.image.data.size(); ++i)
      mad += std::fabs(d.image.data[i] - c.image.data[i]), mad_weak += std::fabs(w.image.data[i] - c.image.data[i]);
    EXPECT_GT(mad, mad_weak);  // levels ordered from weak to strong
  }
  EXPECT_EQ(paper_shifts(256), (std::vector<int64_t>{-64, -48, -32, -16, 0, 16, 32, 48, 64}));
  const Case2D r = shift_horizontal(c, 5);
  for (int64_t y = 0; y < 32; ++y) {
    for (int64_t x = 0; x < 5; ++x) ASSERT_EQ(r.labels.at(x, y, 0), 0.f);
    for (int64_t x = 5; x < 32; ++x) {
      ASSERT_EQ(r.labels.at(x, y, 0), c.labels.at(x - 5, y, 0));
      ASSERT_EQ(r.image.at(x, y, 0), c.image.at(x - 5, y, 0));
    }
  }
}

TEST(Paper2Data, AveragedMaskBaselineByHand) {
  // 2×2 images, classes 0..2: pixel 0 is class 1 in both, pixel 1 class 2 in one and 0 in the other, pixel 3 class 2.
  const std::vector<Case2D> train = {tiny("a", {1, 2, 0, 2}, 2, 2), tiny("b", {1, 0, 0, 2}, 2, 2)};
  const AveragedMask m = averaged_mask(train, 3);
  EXPECT_FLOAT_EQ(m.freq.data[0 * 4 + 0], 0.f);
  EXPECT_FLOAT_EQ(m.freq.data[1 * 4 + 0], 1.f);
  EXPECT_FLOAT_EQ(m.freq.data[2 * 4 + 1], 0.5f);
  EXPECT_FLOAT_EQ(m.freq.data[0 * 4 + 1], 0.5f);
  EXPECT_EQ(m.argmax().data, (std::vector<float>{1, 0, 0, 2}));  // the tie at pixel 1 goes to the lower id
  // test case: class 1 at pixels 0 and 1, class 2 at pixel 3
  const std::vector<Case2D> test = {tiny("t", {1, 1, 0, 2}, 2, 2)};
  // hard: class 1 Dice 2·1/(1+2) = 2/3, class 2 Dice 1 → mean 5/6
  EXPECT_NEAR(averaged_mask_dice(m, test, false)[0], 5.0 / 6.0, 1e-12);
  // soft: class 1 p = (1, 0, 0, 0): 2·1/(1 + 2) = 2/3; class 2 p = (0, .5, 0, 1): 2·1/(1.5 + 1) = 0.8
  EXPECT_NEAR(averaged_mask_dice(m, test, true)[0], (2.0 / 3.0 + 0.8) / 2, 1e-12);
  EXPECT_THROW(averaged_mask(std::vector<Case2D>{tiny("x", {5, 0, 0, 0}, 2, 2)}, 3), std::runtime_error);
}
