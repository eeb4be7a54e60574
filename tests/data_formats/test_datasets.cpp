// Data-set layouts on tiny fixture folders written in each official layout (and on the real 2-D samples): listing,
// loading with grid checks, clear errors for wrong/incomplete folders and misaligned pairs, the patient split.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "data/datasets/datasets.h"
#include "data/formats/image_io.h"
#include "data/formats/jsrt.h"
#include "data/formats/png_io.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;
namespace fs = std::filesystem;

namespace {

Volume img_vol(double sz = 2.5) {
  Volume v = segtest::ramp_volume({6, 5, 4}, -50, 50, 3);
  v.spacing[2] = sz;
  v.affine[2][2] = sz;
  v.datatype = "int16";
  return v;
}
Volume lab_vol(double sz = 2.5) {
  Volume v = img_vol(sz);
  for (auto& f : v.data) f = f > 0 ? 1.f : 0.f;
  v.datatype = "uint8";
  return v;
}
void write(const std::string& path, const Volume& v) {
  fs::create_directories(fs::path(path).parent_path());
  write_image(path, v);
}

void expect_throw_with(const std::function<void()>& f, std::initializer_list<std::string> phrases) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const std::runtime_error& e) {
    for (const auto& p : phrases) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

TEST(Datasets, SegthorListsLoadsAndNamesBothFilesOnMisalignment) {
  TempDir t;
  for (const char* p : {"Patient_01", "Patient_02"}) {
    write(t / (std::string("train/") + p + "/" + p + ".nii.gz"), img_vol());
    write(t / (std::string("train/") + p + "/GT.nii.gz"), lab_vol());
  }
  const auto cases = list_cases("segthor", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].id, "Patient_01");
  const LoadedCase lc = load_case(cases[1]);
  EXPECT_TRUE(lc.has_label);
  EXPECT_EQ(lc.label.dims, lc.images[0].dims);
  EXPECT_EQ(lc.images[0].data, read_image(cases[1].image_paths[0]).data);

  // A label on a different grid (2 mm slices vs 2.5 mm) is the classic silent misalignment.
  write(t / "train/Patient_03/Patient_03.nii.gz", img_vol());
  write(t / "train/Patient_03/GT.nii.gz", lab_vol(2.0));
  const auto three = list_cases("segthor", t.path.string());
  expect_throw_with([&] { load_case(three[2]); }, {"Patient_03.nii.gz", "GT.nii.gz", "disagree in spacing"});
  Volume shifted = lab_vol();
  shifted.affine[0][3] += 1.0;
  write(t / "train/Patient_03/GT.nii.gz", shifted);
  expect_throw_with([&] { load_case(three[2]); }, {"Patient_03.nii.gz", "GT.nii.gz", "disagree in affine"});
  Volume cropped = Volume::make({6, 5, 3}, {1, 1, 2.5});
  cropped.datatype = "uint8";
  write(t / "train/Patient_03/GT.nii.gz", cropped);
  expect_throw_with([&] { load_case(three[2]); }, {"disagree in dims", "6 x 5 x 4 vs 6 x 5 x 3"});

  fs::create_directories(t.path / "train/Patient_04");
  write(t / "train/Patient_04/Patient_04.nii.gz", img_vol());
  expect_throw_with([&] { list_cases("segthor", t.path.string()); }, {"incomplete patient Patient_04", "GT.nii.gz"});
}

TEST(Datasets, WrongFolderSaysWhatWasExpectedAndWhatWasFound) {
  TempDir t;
  std::ofstream(t / "notes.txt") << "x";
  fs::create_directories(t.path / "scans");
  for (const char* ds : {"segthor", "acdc", "brats19", "kits19", "promise12", "jsrt", "images_masks", "nnunet"}) {
    SCOPED_TRACE(ds);
    expect_throw_with([&] { list_cases(ds, t.path.string()); }, {"expected", "found: notes.txt, scans/"});
  }
  expect_throw_with([&] { list_cases("segthor", t / "absent"); }, {"no such folder"});
  expect_throw_with([&] { list_cases("mnist", t.path.string()); }, {"unknown data set 'mnist'", "segthor"});
}

TEST(Datasets, AcdcFramesOfOnePatientShareThePatientKey) {
  TempDir t;
  for (const char* pid : {"patient001", "patient002"}) {
    const std::string d = t / (std::string("training/") + pid + "/");
    for (const char* fr : {"_frame01", "_frame12"}) {
      write(d + pid + fr + ".nii.gz", img_vol());
      write(d + pid + fr + "_gt.nii.gz", lab_vol());
    }
    write(d + pid + "_4d.nii.gz", img_vol());
    std::ofstream(d + "Info.cfg") << "ED: 1\nES: 12\nGroup: DCM\nHeight: 184.0\nNbFrame: 30\nWeight: 95.0\n";
  }
  const auto cases = list_cases("acdc", t.path.string());
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_EQ(cases[1].id, "patient001_frame12");
  EXPECT_EQ(cases[1].patient, "patient001");
  EXPECT_TRUE(load_case(cases[3]).has_label);
  const auto info = read_acdc_info(t / "training/patient001/Info.cfg");
  EXPECT_EQ(info.at("ES"), "12");
  EXPECT_EQ(info.at("Group"), "DCM");
  const auto parts = split_by_patient(cases, {0.5, 0.5}, 3);
  ASSERT_EQ(parts[0].size(), 2u);
  EXPECT_EQ(parts[0][0].patient, parts[0][1].patient);
  fs::remove(t.path / "training/patient002/Info.cfg");
  expect_throw_with([&] { list_cases("acdc", t.path.string()); }, {"patient002 has no Info.cfg"});
}

TEST(Datasets, Brats19FourModalitiesInOrderAndMissingModality) {
  TempDir t;
  for (const char* c : {"HGG/BraTS19_2013_2_1", "LGG/BraTS19_TCIA09_141_1"}) {
    const std::string id = fs::path(c).filename().string();
    for (const char* m : {"flair", "t1", "t1ce", "t2"}) write(t / (std::string(c) + "/" + id + "_" + m + ".nii.gz"), img_vol());
    write(t / (std::string(c) + "/" + id + "_seg.nii.gz"), lab_vol());
  }
  const auto cases = list_cases("brats19", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  ASSERT_EQ(cases[0].image_paths.size(), 4u);
  EXPECT_NE(cases[0].image_paths[2].find("_t1ce.nii.gz"), std::string::npos);
  EXPECT_EQ(load_case(cases[0]).images.size(), 4u);
  // One modality on another grid is caught between images too.
  write(t / "HGG/BraTS19_2013_2_1/BraTS19_2013_2_1_t2.nii.gz", img_vol(1.0));
  expect_throw_with([&] { load_case(list_cases("brats", t.path.string())[0]); }, {"_flair.nii.gz", "_t2.nii.gz", "spacing"});
  fs::remove(t.path / "LGG/BraTS19_TCIA09_141_1/BraTS19_TCIA09_141_1_t1.nii.gz");
  expect_throw_with([&] { list_cases("brats19", t.path.string()); }, {"BraTS19_TCIA09_141_1 lacks", "_t1.nii.gz"});
}

TEST(Datasets, Kits19CasesWithoutSegmentationHaveNoLabel) {
  TempDir t;
  write(t / "data/case_00000/imaging.nii.gz", img_vol());
  write(t / "data/case_00000/segmentation.nii.gz", lab_vol());
  write(t / "data/case_00210/imaging.nii.gz", img_vol());
  const auto cases = list_cases("kits19", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_FALSE(cases[0].label_path.empty());
  EXPECT_TRUE(cases[1].label_path.empty());
  EXPECT_FALSE(load_case(cases[1]).has_label);
  // NaN in a label map is refused by name.
  Volume nan = lab_vol();
  nan.datatype = "float32";
  nan.data[7] = std::nanf("");
  write(t / "data/case_00000/segmentation.nii.gz", nan);
  expect_throw_with([&] { load_case(cases[0]); }, {"segmentation.nii.gz", "NaN"});
}

TEST(Datasets, Promise12MetaImagePairsInPartFolders) {
  TempDir t;
  write(t / "TrainingData_Part1/Case00.mhd", img_vol());
  write(t / "TrainingData_Part1/Case00_segmentation.mhd", lab_vol());
  write(t / "TrainingData_Part2/Case01.mhd", img_vol());
  write(t / "TrainingData_Part2/Case01_segmentation.mhd", lab_vol());
  const auto cases = list_cases("promise12", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[1].id, "Case01");
  const LoadedCase lc = load_case(cases[1]);
  EXPECT_EQ(lc.label.data, lab_vol().data);
}

TEST(Datasets, JsrtWithScrMasksAtHalfResolution) {
  TempDir t;
  std::vector<uint8_t> raw(static_cast<size_t>(kJsrtSide * kJsrtSide * 2));
  for (size_t i = 0; i < raw.size(); i += 2) raw[i] = static_cast<uint8_t>((i / 2) % 16), raw[i + 1] = 0x34;  // big-endian
  fs::create_directories(t.path / "images");
  std::ofstream(t / "images/JPCLN001.IMG", std::ios::binary).write(reinterpret_cast<const char*>(raw.data()), raw.size());
  const int side = 1024;
  for (const char* s : {"left lung", "right lung", "heart", "left clavicle", "right clavicle"}) {
    std::vector<uint8_t> m(side * side, 0);
    const std::string name = s;
    // Disjoint strips per structure, the clavicle strip overlapping the left lung (later structures win).
    const int y0 = name == "left lung" ? 100 : name == "right lung" ? 300 : name == "heart" ? 500 : name == "left clavicle" ? 150 : 700;
    for (int y = y0; y < y0 + 100; ++y)
      for (int x = 0; x < side; ++x) m[y * side + x] = 255;
    fs::create_directories(t.path / "masks" / s);
    write_png_grey((t.path / "masks" / s / "JPCLN001.png").string(), side, side, m);
  }
  const auto cases = list_cases("jsrt", t.path.string());
  ASSERT_EQ(cases.size(), 1u);
  const LoadedCase lc = load_case(cases[0]);
  EXPECT_EQ(lc.images[0].dims, (std::array<int64_t, 3>{1024, 1024, 1}));
  EXPECT_NEAR(lc.images[0].spacing[0], 0.35, 1e-12);
  EXPECT_EQ(lc.label.at(5, 120, 0), 1.f);
  EXPECT_EQ(lc.label.at(5, 160, 0), 3.f);
  EXPECT_EQ(lc.label.at(5, 550, 0), 2.f);
  EXPECT_EQ(lc.label.at(5, 50, 0), 0.f);
  // The 2x2 mean of the big-endian samples ((i % 16) << 8 | 0x34): columns 0 and 1 of rows 0 and 1.
  const float want = 0.25f * (2 * (0x0000 | 0x34) + 2 * (0x0100 | 0x34));
  EXPECT_FLOAT_EQ(lc.images[0].at(0, 0, 0), want);
  fs::remove(t.path / "masks/heart/JPCLN001.png");
  expect_throw_with([&] { list_cases("jsrt", t.path.string()); }, {"JPCLN001 lacks", "heart/JPCLN001.png"});
}

TEST(Datasets, ImagesMasksBinarisesAndKeepsSmallIds) {
  TempDir t;
  Volume im = Volume::make({8, 6, 1}, {1, 1, 1}, 90.f);
  im.datatype = "uint8";
  write(t / "images/a.png", im);
  write(t / "images/b.png", im);
  Volume m = im;
  for (size_t i = 0; i < m.data.size(); ++i) m.data[i] = i % 3 == 0 ? 255.f : 0.f;
  write(t / "masks/a_mask.png", m);
  Volume ids = im;
  for (size_t i = 0; i < ids.data.size(); ++i) ids.data[i] = static_cast<float>(i % 3);
  write(t / "masks/b.png", ids);
  const auto cases = list_cases("polyp", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  const LoadedCase a = load_case(cases[0]), b = load_case(cases[1]);
  for (size_t i = 0; i < m.data.size(); ++i) ASSERT_EQ(a.label.data[i], i % 3 == 0 ? 1.f : 0.f);
  EXPECT_EQ(b.label.data, ids.data);
  Volume wrong = Volume::make({8, 5, 1}, {1, 1, 1});
  wrong.datatype = "uint8";
  write(t / "masks/b.png", wrong);
  expect_throw_with([&] { load_case(cases[1]); }, {"images/b.png", "masks/b.png", "disagree in dims"});
  fs::remove(t.path / "masks/b.png");
  expect_throw_with([&] { list_cases("fundus", t.path.string()); }, {"no mask for image b.png"});
}

TEST(Datasets, ImagesMasksFoldersInAnyLetterCase) {
  TempDir t;  // ORIGA as it is often shared: Images/ and Masks/ with label ids 0, 1 (disc rim), 2 (cup)
  Volume im = Volume::make({6, 4, 1}, {1, 1, 1}, 90.f);
  im.datatype = "uint8";
  write(t / "Images/origa_001.png", im);
  Volume ids = im;
  for (size_t i = 0; i < ids.data.size(); ++i) ids.data[i] = static_cast<float>(i % 3);
  write(t / "Masks/origa_001.png", ids);
  const auto cases = list_cases("fundus", t.path.string());
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_NE(cases[0].label_path.find("Masks"), std::string::npos);
  EXPECT_EQ(load_case(cases[0]).label.data, ids.data);
}

TEST(Datasets, ImagesMasksOnRealKvasirMontgomeryAndDrions) {
  SKIP_IF_NO_REAL("kvasir_seg_polyp_samples");
  struct Want { const char* dir; size_t n; int64_t channels; double lo, hi; };
  // Foreground fractions from the SOURCE.md files (Kvasir 7-32%, Montgomery 18-36%); DRIONS: a disc is small.
  for (const Want& w : {Want{"kvasir_seg_polyp_samples", 5, 3, 0.07, 0.32}, Want{"montgomery_cxr_lung_masks", 4, 1, 0.18, 0.36},
                        Want{"drions_fundus_optic_disc", 0, 3, 0.001, 0.2}}) {
    SCOPED_TRACE(w.dir);
    if (!fs::exists(segtest::real_dir(w.dir))) continue;
    const auto cases = list_cases("images_masks", segtest::real_dir(w.dir));
    if (w.n) {
      EXPECT_EQ(cases.size(), w.n);
    }
    for (const auto& c : cases) {
      const LoadedCase lc = load_case(c);
      EXPECT_EQ(lc.images[0].channels, w.channels);
      double fg = 0;
      for (float f : lc.label.data) {
        ASSERT_TRUE(f == 0.f || f == 1.f);
        fg += f;
      }
      fg /= static_cast<double>(lc.label.data.size());
      EXPECT_GT(fg, w.lo) << c.id;
      EXPECT_LT(fg, w.hi) << c.id;
    }
  }
}

TEST(Datasets, NnunetRawV2WithTwoChannels) {
  TempDir t;
  std::ofstream(t / "dataset.json") << R"({"channel_names": {"0": "T2", "1": "ADC"}, "labels": {"background": 0, "prostate": 1},
                                          "numTraining": 2, "file_ending": ".nii.gz"})";
  for (const char* c : {"prostate_00", "prostate_01"}) {
    write(t / (std::string("imagesTr/") + c + "_0000.nii.gz"), img_vol());
    write(t / (std::string("imagesTr/") + c + "_0001.nii.gz"), img_vol());
    write(t / (std::string("labelsTr/") + c + ".nii.gz"), lab_vol());
  }
  const auto cases = list_cases("nnunet", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].image_paths.size(), 2u);
  EXPECT_TRUE(load_case(cases[1]).has_label);
  fs::remove(t.path / "imagesTr/prostate_01_0001.nii.gz");
  expect_throw_with([&] { list_cases("nnunet", t.path.string()); }, {"prostate_01_0001.nii.gz", "2 channels"});
  write(t / "imagesTr/prostate_01_0001.nii.gz", img_vol());
  write(t / "imagesTr/prostate_02_0000.nii.gz", img_vol());
  write(t / "imagesTr/prostate_02_0001.nii.gz", img_vol());
  write(t / "labelsTr/prostate_02.nii.gz", lab_vol());
  expect_throw_with([&] { list_cases("nnunet", t.path.string()); }, {"numTraining is 2", "holds 3"});
}

TEST(Datasets, SplitByPatientIsDeterministicDisjointAndComplete) {
  std::vector<Case> cases;
  for (int p = 0; p < 20; ++p)
    for (int f = 0; f < 2; ++f) {
      const std::string pid = std::string("p").append(std::to_string(p));
      cases.push_back(Case{std::string(pid).append("_f").append(std::to_string(f)), {"x"}, "", pid, "acdc"});
    }
  const auto a = split_by_patient(cases, {0.7, 0.1, 0.2}, 42);
  const auto b = split_by_patient(cases, {0.7, 0.1, 0.2}, 42);
  const auto c = split_by_patient(cases, {0.7, 0.1, 0.2}, 43);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].size(), 28u);  // 14 patients x 2 frames
  EXPECT_EQ(a[1].size(), 4u);
  EXPECT_EQ(a[2].size(), 8u);
  std::set<std::string> seen_patients[3];
  std::set<std::string> ids;
  for (int k = 0; k < 3; ++k)
    for (const auto& x : a[k]) seen_patients[k].insert(x.patient), ids.insert(x.id);
  EXPECT_EQ(ids.size(), cases.size());
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      for (const auto& p : seen_patients[i]) EXPECT_EQ(seen_patients[j].count(p), 0u) << p;
  auto ids_of = [](const std::vector<Case>& v) {
    std::vector<std::string> o;
    for (const auto& x : v) o.push_back(x.id);
    return o;
  };
  EXPECT_EQ(ids_of(a[2]), ids_of(b[2]));
  EXPECT_NE(ids_of(a[0]), ids_of(c[0]));
  const auto counts = split_by_patient_counts(cases, {3, 2}, 42);
  EXPECT_EQ(counts[0].size(), 6u);
  EXPECT_EQ(counts[1].size(), 4u);
  EXPECT_THROW(split_by_patient(cases, {0.5, 0.4}, 1), std::runtime_error);
  EXPECT_THROW(split_by_patient_counts(cases, {15, 6}, 1), std::runtime_error);
  // Tiny sets: a requested part is never empty while another could spare a patient.
  const std::vector<Case> three(cases.begin(), cases.begin() + 6);
  for (const auto& part : split_by_patient(three, {0.9, 0.05, 0.05}, 7)) EXPECT_FALSE(part.empty());
}

}  // namespace
