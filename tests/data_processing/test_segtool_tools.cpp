// segtool's data commands called as the dispatcher calls them: metrics --json shape and null for infinite distances,
// weak/edt/contour/edges/degrade outputs on disk, and exit code 2 for usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/cli/commands.h"
#include "data/formats/image_io.h"

using namespace seg;

namespace {

int call(int (*cmd)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return cmd(static_cast<int>(argv.size()), argv.data());
}

struct TempDir {
  std::filesystem::path p = std::filesystem::temp_directory_path() / ("segtool_t_" + std::to_string(getpid()));
  TempDir() { std::filesystem::create_directories(p); }
  ~TempDir() { std::filesystem::remove_all(p); }
  std::string operator/(const std::string& f) const { return (p / f).string(); }
};

}  // namespace

TEST(SegtoolTools, MetricsJsonWithNullForEmptyPrediction) {
  TempDir t;
  Volume gt = Volume::make({8, 8, 3}, {1, 1, 2}), pred = gt;
  gt.datatype = pred.datatype = "uint8";
  for (int64_t y = 2; y < 6; ++y)
    for (int64_t x = 2; x < 6; ++x) gt.at(x, y, 1) = 1, pred.at(x, y, 1) = x < 5 ? 1.f : 0.f, gt.at(x, y, 2) = 2;
  write_image(t / "gt.nii.gz", gt);
  write_image(t / "pred.nii.gz", pred);
  testing::internal::CaptureStdout();
  ASSERT_EQ(call(cli::metrics, {"metrics", t / "pred.nii.gz", t / "gt.nii.gz", "--json"}), 0);
  const nlohmann::json j = nlohmann::json::parse(testing::internal::GetCapturedStdout());
  EXPECT_NEAR(j["labels"]["1"]["dice"].get<double>(), 2.0 * 12 / (12 + 16), 1e-12);
  EXPECT_NEAR(j["labels"]["1"]["hd"].get<double>(), 1.0, 1e-12);
  EXPECT_TRUE(j["labels"]["2"]["hd"].is_null());  // label 2 missing from the prediction
  EXPECT_EQ(j["labels"]["2"]["dice"].get<double>(), 0.0);
  testing::internal::CaptureStdout();
  ASSERT_EQ(call(cli::metrics, {"metrics", t / "pred.nii.gz", t / "gt.nii.gz", "--labels", "1", "--json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(testing::internal::GetCapturedStdout())["labels"].size(), 1u);
  testing::internal::CaptureStderr();
  EXPECT_EQ(call(cli::metrics, {"metrics", t / "pred.nii.gz"}), 2);
  EXPECT_EQ(call(cli::metrics, {"metrics", t / "pred.nii.gz", t / "gt.nii.gz", "--labels", "x"}), 2);
  EXPECT_EQ(call(cli::metrics, {"metrics", t / "missing.nii", t / "gt.nii.gz"}), 1);
  testing::internal::GetCapturedStderr();
}

// metrics refuses maps on different grids (naming both files) and, with --dataset, label values outside that data
// set's set (naming the file, the value and the voxel); a label absent from the ground truth is a warning.
TEST(SegtoolTools, MetricsChecksGridAndLabelSet) {
  TempDir t;
  Volume gt = Volume::make({6, 5, 3}, {1, 1, 2}, 0.f), pred = gt;
  gt.datatype = pred.datatype = "uint8";
  gt.at(1, 1, 1) = 1, gt.at(2, 2, 2) = 3, pred.at(1, 1, 1) = 1;
  write_image(t / "gt.nii.gz", gt);
  write_image(t / "pred.nii.gz", pred);
  Volume moved = pred;
  moved.affine[0][3] += 5.0;  // same dims and spacing, shifted by 5 mm
  write_image(t / "moved.nii.gz", moved);
  Volume coarse = Volume::make({6, 5, 3}, {1, 1, 3}, 0.f);
  coarse.datatype = "uint8";
  write_image(t / "coarse.nii.gz", coarse);
  Volume brats = gt;
  brats.at(0, 0, 0) = 3;  // not a BraTS label
  write_image(t / "brats.nii.gz", brats);

  const auto run = [&](std::vector<std::string> args, int want) {
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = call(cli::metrics, args);
    testing::internal::GetCapturedStdout();
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(rc, want) << err;
    return err;
  };
  std::string err = run({"metrics", t / "moved.nii.gz", t / "gt.nii.gz"}, 1);
  EXPECT_NE(err.find("gt.nii.gz (ground truth)"), std::string::npos) << err;
  EXPECT_NE(err.find("moved.nii.gz (prediction)"), std::string::npos) << err;
  EXPECT_NE(err.find("affine"), std::string::npos) << err;
  err = run({"metrics", t / "coarse.nii.gz", t / "gt.nii.gz"}, 1);
  EXPECT_NE(err.find("spacing"), std::string::npos) << err;

  err = run({"metrics", t / "pred.nii.gz", t / "brats.nii.gz", "--dataset", "brats19"}, 1);
  EXPECT_NE(err.find("brats.nii.gz: label map holds the value 3 at voxel (0, 0, 0)"), std::string::npos) << err;
  EXPECT_NE(err.find("4 enhancing tumour"), std::string::npos) << err;
  err = run({"metrics", t / "pred.nii.gz", t / "gt.nii.gz", "--dataset", "nosuch"}, 2);
  EXPECT_NE(err.find("--dataset: unknown data set 'nosuch'"), std::string::npos) << err;
  err = run({"metrics", t / "pred.nii.gz", t / "gt.nii.gz", "--dataset", "acdc", "--labels", "7"}, 2);
  EXPECT_NE(err.find("--labels: 7 is not a acdc label"), std::string::npos) << err;
  // ACDC: 1 and 3 present in the ground truth, 2 (myocardium) absent -> a warning, and the scores still come.
  err = run({"metrics", t / "pred.nii.gz", t / "gt.nii.gz", "--dataset", "acdc"}, 0);
  EXPECT_NE(err.find("gt.nii.gz: the ground truth has no voxel of label 2 (myocardium)"), std::string::npos) << err;
  EXPECT_EQ(err.find("label 1 "), std::string::npos) << err;
}

TEST(SegtoolTools, MapCommandsWriteTheirOutputs) {
  TempDir t;
  Volume lab = Volume::make({10, 10, 2});
  lab.datatype = "uint8";
  for (int64_t y = 3; y < 7; ++y)
    for (int64_t x = 3; x < 7; ++x) lab.at(x, y, 0) = 2;
  write_image(t / "lab.nii.gz", lab);
  ASSERT_EQ(call(cli::weak, {"weak", t / "lab.nii.gz", t / "weak.nii.gz", "--seed", "4"}), 0);
  const Volume w = read_image(t / "weak.nii.gz");
  int64_t seeds = 0;
  for (size_t i = 0; i < w.data.size(); ++i) {
    seeds += w.data[i] != 0;
    if (w.data[i] != 0) {
      EXPECT_EQ(w.data[i], 2.f);  // seeds carry their label id
    }
  }
  EXPECT_GE(seeds, 5);
  EXPECT_LE(seeds, 13);
  ASSERT_EQ(call(cli::edt, {"edt", t / "lab.nii.gz", t / "d.nii.gz", "--variant", "D3", "--per-slice"}), 0);
  const Volume d = read_image(t / "d.nii.gz");
  EXPECT_LT(d.at(4, 4, 0), 0.f);
  EXPECT_GT(d.at(0, 0, 0), 0.f);
  ASSERT_EQ(call(cli::contour, {"contour", t / "lab.nii.gz", t / "c.nii.gz", "--radius", "1"}), 0);
  EXPECT_EQ(read_image(t / "c.nii.gz").at(2, 4, 0), 1.f);
  ASSERT_EQ(call(cli::edges, {"edges", t / "lab.nii.gz", t / "e.nii.gz"}), 0);
  EXPECT_EQ(read_image(t / "e.nii.gz").at(2, 2, 0), 1.f);
  Volume img = Volume::make({16, 16, 1}, {1, 1, 1}, 128.f);
  img.datatype = "uint8";
  write_image(t / "img.png", img);
  ASSERT_EQ(call(cli::degrade, {"degrade", t / "img.png", t / "n.png", "--noise", "0.1", "--seed", "2"}), 0);
  const Volume n = read_image(t / "n.png");
  EXPECT_EQ(n.datatype, "uint8");
  EXPECT_NE(n.data, img.data);
  testing::internal::CaptureStderr();
  EXPECT_EQ(call(cli::degrade, {"degrade", t / "img.png", t / "n.png"}), 2);
  EXPECT_EQ(call(cli::edt, {"edt", t / "lab.nii.gz", t / "d.nii.gz", "--variant", "D9"}), 2);
  EXPECT_EQ(call(cli::weak, {"weak", t / "lab.nii.gz", t / "w.nii.gz", "--bogus"}), 2);
  EXPECT_EQ(call(cli::phantom, {"phantom", "nope", t / "ph"}), 1);
  testing::internal::GetCapturedStderr();
}

TEST(SegtoolTools, PseudoWritesSegthorLayoutWithMappedLabels) {
  TempDir t;
  Volume ct = Volume::make({24, 20, 16}, {1.5, 1.5, 1.5}), lab = ct;  // 36×30×24 mm: room for the random shift
  ct.datatype = "int16";
  lab.datatype = "uint8";
  for (int64_t z = 4; z < 12; ++z)
    for (int64_t y = 5; y < 15; ++y)
      for (int64_t x = 6; x < 18; ++x) ct.at(x, y, z) = 40, lab.at(x, y, z) = x < 12 ? 1.f : 3.f;
  write_image(t / "ct.nii.gz", ct);
  write_image(t / "lab.nii.gz", lab);
  testing::internal::CaptureStdout();
  ASSERT_EQ(call(cli::pseudo, {"pseudo", t / "ct.nii.gz", t / "lab.nii.gz", t / "out", "--patients", "2", "--map", "1:2,3:0",
                               "--spacing", "0,0,3"}),
            0);
  testing::internal::GetCapturedStdout();
  for (const char* id : {"Patient_01", "Patient_02"}) {
    const Volume img = read_image(t / (std::string("out/train/") + id + "/" + id + ".nii.gz"));
    const Volume gt = read_image(t / (std::string("out/train/") + id + "/GT.nii.gz"));
    EXPECT_EQ(img.dims, (std::array<int64_t, 3>{24, 20, 8}));
    EXPECT_EQ(gt.dims, img.dims);
    EXPECT_DOUBLE_EQ(gt.spacing[2], 3.0);
    int64_t heart = 0;
    for (float v : gt.data) {
      EXPECT_TRUE(v == 0.f || v == 2.f) << v;  // 1 → 2, 3 → 0
      heart += v == 2.f;
    }
    EXPECT_GT(heart, 0);
  }
  // usage errors: exit 2, nothing half-written
  testing::internal::CaptureStderr();
  EXPECT_EQ(call(cli::pseudo, {"pseudo", t / "ct.nii.gz", t / "lab.nii.gz", t / "bad", "--map", "1-2"}), 2);
  EXPECT_EQ(call(cli::pseudo, {"pseudo", t / "ct.nii.gz", t / "lab.nii.gz", t / "bad", "--spacing", "1,2"}), 2);
  EXPECT_EQ(call(cli::pseudo, {"pseudo", t / "ct.nii.gz", t / "missing.nii.gz", t / "bad"}), 1);
  testing::internal::GetCapturedStderr();
  EXPECT_FALSE(std::filesystem::exists(t / "bad/train"));
}
