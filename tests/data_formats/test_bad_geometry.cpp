// Geometry and label values a reader or loader must not take silently: spacings that are 0, NaN or negative,
// singular orientation matrices, data files that are devices, label values outside a data set's label set, and
// labels absent from a case. Each case asserts the error (or warning) names the file and what was expected.
// Key decision: warnings are captured through io::set_warning_handler, so a test checks them as text, not by eye.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/formats/nifti.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;

namespace {

std::vector<std::string>& warnings() {
  static std::vector<std::string> w;
  return w;
}
void capture(const std::string& msg) { warnings().push_back(msg); }

// Captures io::warn for the test's lifetime and restores the previous handler.
struct WarningCapture {
  io::WarningHandler previous;
  WarningCapture() : previous(io::set_warning_handler(capture)) { warnings().clear(); }
  ~WarningCapture() { io::set_warning_handler(previous); }
  // True when one captured warning contains every phrase.
  bool has(std::initializer_list<const char*> phrases) const {
    for (const auto& w : warnings()) {
      bool all = true;
      for (const char* p : phrases) all = all && w.find(p) != std::string::npos;
      if (all) return true;
    }
    return false;
  }
  std::string all() const {
    std::string t;
    for (const auto& w : warnings()) t += w + "\n";
    return t;
  }
};

std::vector<uint8_t> bytes_of(const std::string& path) {
  const std::string s = segtest::read_text(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}
void put(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
void put(const std::string& path, const std::string& s) { std::ofstream(path, std::ios::binary) << s; }

// Runs `f` expecting a std::runtime_error whose text contains every phrase.
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> phrases) {
  try {
    f();
    ADD_FAILURE() << "succeeded, an error was expected";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    for (const auto& p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' missing from: " << msg;
  }
}

void set_f32(std::vector<uint8_t>& b, size_t off, float v) { std::memcpy(b.data() + off, &v, 4); }
void set_i16(std::vector<uint8_t>& b, size_t off, int16_t v) { std::memcpy(b.data() + off, &v, 2); }

Volume small() {
  Volume v = segtest::ramp_volume({6, 5, 4}, 0, 9, 3);
  v.datatype = "uint8";
  return v;
}

const std::string kMhaHead = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\n";

}  // namespace

TEST(BadGeometry, NiftiPixdimZeroNanNegativeWarnWithTheValueUsed) {
  TempDir t;
  write_image(t / "ok.nii", small());  // spacing 0.7 0.8 2.5
  auto b = bytes_of(t / "ok.nii");
  set_f32(b, 80, 0.f);                                          // pixdim[1]
  set_f32(b, 84, std::numeric_limits<float>::quiet_NaN());      // pixdim[2]
  set_f32(b, 88, -2.5f);                                        // pixdim[3]
  put(t / "pix.nii", b);
  WarningCapture w;
  const Volume v = read_image(t / "pix.nii");
  EXPECT_TRUE(w.has({"pix.nii", "pixdim[1]", "is 0", "assuming 0.6999999"})) << w.all();
  EXPECT_TRUE(w.has({"pix.nii", "pixdim[2]", "nan", "assuming 0.8000000"})) << w.all();
  EXPECT_TRUE(w.has({"pix.nii", "pixdim[3]", "-2.5", "negative", "magnitude 2.5"})) << w.all();
  // (The values used are the float32 sform's.) The spacing comes from the sform's columns where pixdim is unusable, |pixdim| where it is negative.
  EXPECT_NEAR(v.spacing[0], 0.7, 1e-5);
  EXPECT_NEAR(v.spacing[1], 0.8, 1e-5);
  EXPECT_NEAR(v.spacing[2], 2.5, 1e-5);
}

TEST(BadGeometry, NiftiSingularSformFallsBackToQformOrFails) {
  TempDir t;
  write_image(t / "ok.nii", small());
  auto b = bytes_of(t / "ok.nii");
  for (int j = 0; j < 4; ++j) set_f32(b, 280 + 4 * j, 0.f);  // srow_x = 0: a singular sform
  put(t / "sform.nii", b);
  {
    WarningCapture w;
    const Volume v = read_image(t / "sform.nii");
    EXPECT_TRUE(w.has({"sform.nii", "sform", "singular or not finite", "using the qform"})) << w.all();
    EXPECT_NEAR(std::abs(v.affine[0][0]), 0.7, 1e-5);  // the qform's x column
  }
  set_i16(b, 252, 0);  // no qform to fall back on
  put(t / "noq.nii", b);
  expect_error([&] { read_image(t / "noq.nii"); },
               {"noq.nii", "bad header", "singular or not finite", "no qform to fall back on"});
}

TEST(BadGeometry, MetaImageZeroNegativeSpacingAndSingularMatrix) {
  TempDir t;
  const std::string data(8, '\1');
  put(t / "zero.mha", kMhaHead + "ElementSpacing = 1 0 1\nElementDataFile = LOCAL\n" + data);
  expect_error([&] { read_image(t / "zero.mha"); }, {"zero.mha", "ElementSpacing along axis 1 is 0", "must be > 0"});

  put(t / "neg.mha", kMhaHead + "ElementSpacing = 1 -2 1\nElementDataFile = LOCAL\n" + data);
  WarningCapture w;
  const Volume v = read_image(t / "neg.mha");
  EXPECT_TRUE(w.has({"neg.mha", "axis 1", "-2", "negative"})) << w.all();
  EXPECT_DOUBLE_EQ(v.spacing[1], 2.0);
  EXPECT_DOUBLE_EQ(v.affine[1][1], 2.0);  // LPS -> RAS flips y, the negative spacing flips it back

  put(t / "sing.mha", kMhaHead + "TransformMatrix = 1 0 0 1 0 0 0 0 1\nElementDataFile = LOCAL\n" + data);
  expect_error([&] { read_image(t / "sing.mha"); }, {"sing.mha", "TransformMatrix", "singular"});
}

TEST(BadGeometry, NrrdSpacingsNanZeroAndCount) {
  TempDir t;
  const std::string head = "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n";
  const std::string data(8, '\1');
  put(t / "zero.nrrd", head + "spacings: 1 0 1\n\n" + data);
  expect_error([&] { read_image(t / "zero.nrrd"); }, {"zero.nrrd", "spacing of axis 1 is 0"});
  put(t / "count.nrrd", head + "spacings: 1 1\n\n" + data);
  expect_error([&] { read_image(t / "count.nrrd"); }, {"count.nrrd", "has 2 entries for dimension 3"});
  put(t / "token.nrrd", head + "spacings: 1 x 1\n\n" + data);
  expect_error([&] { read_image(t / "token.nrrd"); }, {"token.nrrd", "token 'x'", "neither a number nor nan"});

  put(t / "nan.nrrd", head + "spacings: 1 nan -3\n\n" + data);
  WarningCapture w;
  const Volume v = read_image(t / "nan.nrrd");
  EXPECT_TRUE(w.has({"nan.nrrd", "axis 1", "nan", "assuming 1 mm"})) << w.all();
  EXPECT_TRUE(w.has({"nan.nrrd", "axis 2", "-3", "backwards"})) << w.all();
  EXPECT_DOUBLE_EQ(v.spacing[1], 1.0);
  EXPECT_DOUBLE_EQ(v.spacing[2], 3.0);
}

TEST(BadGeometry, DataFileThatIsADeviceOrFolderIsRefused) {
  TempDir t;
  put(t / "dev.mhd", kMhaHead + "ElementDataFile = /dev/zero\n");
  expect_error([&] { read_image(t / "dev.mhd"); }, {"dev.mhd", "/dev/zero", "not a regular file"});
  std::filesystem::create_directories(t / "dir.nii");
  expect_error([&] { read_nifti(t / "dir.nii"); }, {"dir.nii", "is a folder, expected a file"});
  expect_error([&] { read_nifti("/dev/null"); }, {"/dev/null", "not a regular file"});
}

TEST(LabelSets, ValuesOutsideTheDataSetsSetNameFileValueVoxelAndSet) {
  Volume lab = Volume::make({4, 3, 2}, {1, 1, 1}, 0.f);
  lab.at(1, 2, 1) = 3.f;  // BraTS has no label 3
  expect_error([&] { check_label_values(lab, "seg.nii.gz", dataset_labels("brats19")); },
               {"seg.nii.gz", "value 3", "voxel (1, 2, 1)", "not in its label set", "4 enhancing tumour"});
  check_label_values(lab, "seg.nii.gz", dataset_labels("acdc"));  // 3 is ACDC's LV
  check_label_values(lab, "seg.nii.gz");                           // no set: any integer >= 0

  lab.at(0, 1, 0) = 1.5f;
  expect_error([&] { check_label_values(lab, "seg.nii.gz"); }, {"seg.nii.gz", "non-integer value 1.5", "voxel (0, 1, 0)"});
  lab.at(0, 1, 0) = -1.f;
  expect_error([&] { check_label_values(lab, "seg.nii.gz"); }, {"seg.nii.gz", "negative value -1", "voxel (0, 1, 0)"});
  lab.at(0, 1, 0) = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { check_label_values(lab, "seg.nii.gz"); }, {"seg.nii.gz", "NaN", "voxel (0, 1, 0)"});

  expect_error([&] { dataset_labels("segthorr"); }, {"unknown data set 'segthorr'", "segthor"});
  EXPECT_EQ(dataset_labels("kits").size(), 3u);
  EXPECT_TRUE(dataset_labels("nnunet").empty());
  EXPECT_EQ(label_set_text(dataset_labels("acdc")), "0 background, 1 RV, 2 myocardium, 3 LV");
}

TEST(LabelSets, AbsentLabelsAreListedWithoutBackground) {
  Volume lab = Volume::make({4, 3, 2}, {1, 1, 1}, 0.f);
  lab.at(0, 0, 0) = 1.f, lab.at(3, 2, 1) = 4.f;
  EXPECT_EQ(absent_labels(lab, dataset_labels("segthor")), (std::vector<int>{2, 3}));
  EXPECT_TRUE(absent_labels(lab, {}).empty());
  lab.at(1, 1, 1) = 300.f;  // ids beyond the lookup table
  EXPECT_TRUE(absent_labels(lab, {{0, ""}, {300, "big"}}).empty());
}

// nnU-Net (v2 name -> value, v1 value -> name) and Decathlon folders take their label set from dataset.json: a value
// outside it is an error naming the label file, a class with no voxel in a case is a warning and in absent_labels.
TEST(LabelSets, NnunetAndDecathlonSetsFromDatasetJson) {
  TempDir t;
  Volume img = Volume::make({4, 3, 2}, {1, 1, 1}, 5.f), lab = Volume::make({4, 3, 2}, {1, 1, 1}, 0.f);
  img.datatype = "int16", lab.datatype = "uint8";
  lab.at(1, 1, 1) = 1.f;
  std::filesystem::create_directories(t.path / "nn/imagesTr");
  std::filesystem::create_directories(t.path / "nn/labelsTr");
  write_image(t / "nn/imagesTr/p_00_0000.nii.gz", img);
  write_image(t / "nn/labelsTr/p_00.nii.gz", lab);
  put(t / "nn/dataset.json", R"({"channel_names": {"0": "T2"}, "labels": {"background": 0, "prostate": 1, "zone": 2}})");
  auto cases = list_cases("nnunet", t / "nn");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(label_set_text(cases[0].labels), "0 background, 1 prostate, 2 zone");
  {
    WarningCapture w;
    const LoadedCase lc = load_case(cases[0]);
    EXPECT_EQ(lc.absent_labels, (std::vector<int>{2}));
    EXPECT_TRUE(w.has({"p_00.nii.gz", "case p_00 has no voxel of label 2 (zone)"})) << w.all();
  }
  lab.at(0, 0, 0) = 3.f;
  write_image(t / "nn/labelsTr/p_00.nii.gz", lab);
  expect_error([&] { load_case(cases[0]); },
               {"p_00.nii.gz", "value 3", "voxel (0, 0, 0)", "not in its label set", "2 zone"});
  put(t / "nn/dataset.json", R"({"modality": {"0": "T2"}, "labels": {"0": "background", "1": "prostate"}})");  // v1
  EXPECT_EQ(label_set_text(list_cases("nnunet", t / "nn")[0].labels), "0 background, 1 prostate");
  put(t / "nn/dataset.json", R"({"channel_names": {"0": "T2"}, "labels": {"background": 0, "prostate": -1}})");
  expect_error([&] { list_cases("nnunet", t / "nn"); }, {"dataset.json", "entry 'prostate' is not a label value"});

  // The Decathlon: "labels" maps values (as strings) to names, like nnU-Net v1.
  std::filesystem::create_directories(t.path / "msd/imagesTr");
  std::filesystem::create_directories(t.path / "msd/labelsTr");
  write_image(t / "msd/imagesTr/hippo_1.nii.gz", img);
  write_image(t / "msd/labelsTr/hippo_1.nii.gz", lab);  // holds 3
  put(t / "msd/dataset.json", R"({"labels": {"0": "background", "1": "anterior", "2": "posterior"},
      "training": [{"image": "./imagesTr/hippo_1.nii.gz", "label": "./labelsTr/hippo_1.nii.gz"}]})");
  cases = list_cases("msd", t / "msd");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(label_set_text(cases[0].labels), "0 background, 1 anterior, 2 posterior");
  expect_error([&] { load_case(cases[0]); }, {"hippo_1.nii.gz", "value 3", "2 posterior"});
}
