// segtool evaluate on hand-made label maps: nnU-Net's summary.json layout (metric_per_case / mean /
// foreground_mean with nnU-Net's keys), counts and Dice by hand, distances equal to segtool metrics', a label absent
// from both masks null (nnU-Net's NaN) and left out of the mean, regions "1+2", volumes in mm³; a grid mismatch and
// a missing prediction are errors naming the files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/cli/commands.h"
#include "data/formats/image_io.h"
#include "data/metrics/label_metrics.h"

using namespace seg;
using json = nlohmann::json;

namespace {

int call(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return cli::evaluate(static_cast<int>(argv.size()), argv.data());
}

struct Dirs {
  std::filesystem::path root = std::filesystem::temp_directory_path() / ("segtool_eval_" + std::to_string(getpid()));
  std::string pred = (root / "pred").string(), gt = (root / "gt").string();
  Dirs() {
    std::filesystem::create_directories(pred);
    std::filesystem::create_directories(gt);
  }
  ~Dirs() { std::filesystem::remove_all(root); }
};

Volume labels(std::array<int64_t, 3> dims) {
  Volume v = Volume::make(dims, {0.5, 1.0, 2.0});
  v.datatype = "uint8";
  return v;
}

std::string error_of(std::vector<std::string> args) {
  try {
    call(std::move(args));
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(SegtoolEvaluate, NnunetSummaryLayoutAndValues) {
  Dirs d;
  // case a: label 1 — gt 4×4 square, prediction 3×4 inside it; label 2 only in the ground truth; label 3 in neither
  Volume ga = labels({8, 8, 2}), pa = ga;
  for (int64_t y = 2; y < 6; ++y)
    for (int64_t x = 2; x < 6; ++x) ga.at(x, y, 0) = 1, pa.at(x, y, 0) = x < 5 ? 1.f : 0.f;
  ga.at(0, 0, 1) = 2;
  // case b: label 1 predicted exactly, label 3 predicted where the ground truth has nothing
  Volume gb = labels({8, 8, 2}), pb = gb;
  gb.at(1, 1, 1) = gb.at(2, 1, 1) = 1;
  pb.at(1, 1, 1) = pb.at(2, 1, 1) = 1;
  pb.at(6, 6, 0) = 3;
  write_image(d.gt + "/a.nii.gz", ga);
  write_image(d.pred + "/a.nii.gz", pa);
  write_image(d.gt + "/b.mha", gb);
  write_image(d.pred + "/b.nii.gz", pb);  // matched by case name, whatever the format
  const std::string out = (d.root / "summary.json").string();
  testing::internal::CaptureStdout();
  const int rc = call({"evaluate", d.pred, d.gt, "-o", out});
  const std::string text = testing::internal::GetCapturedStdout();
  ASSERT_EQ(rc, 0) << text;
  const json s = json::parse(std::ifstream(out));
  ASSERT_TRUE(s.contains("metric_per_case") && s.contains("mean") && s.contains("foreground_mean"));
  ASSERT_EQ(s["metric_per_case"].size(), 2u);
  EXPECT_EQ(s["labels"], (json{"1", "2", "3"}));
  const json& a = s["metric_per_case"][0];
  EXPECT_EQ(a["reference_file"], d.gt + "/a.nii.gz");
  EXPECT_EQ(a["prediction_file"], d.pred + "/a.nii.gz");
  const json& a1 = a["metrics"]["1"];
  EXPECT_EQ(a1["TP"], 12);
  EXPECT_EQ(a1["FP"], 0);
  EXPECT_EQ(a1["FN"], 4);
  EXPECT_EQ(a1["TN"], 128 - 16);
  EXPECT_EQ(a1["n_pred"], 12);
  EXPECT_EQ(a1["n_ref"], 16);
  EXPECT_DOUBLE_EQ(a1["Dice"].get<double>(), 24.0 / 28.0);
  EXPECT_DOUBLE_EQ(a1["IoU"].get<double>(), 12.0 / 16.0);
  EXPECT_DOUBLE_EQ(a1["Jaccard"].get<double>(), 12.0 / 16.0);
  EXPECT_DOUBLE_EQ(a1["volume_ref_mm3"].get<double>(), 16.0);  // 16 voxels of 0.5·1·2 mm³
  EXPECT_DOUBLE_EQ(a1["volume_pred_mm3"].get<double>(), 12.0);
  const auto ref = label_scores(pa, ga, {1}).at(1);  // distances as segtool metrics computes them
  EXPECT_DOUBLE_EQ(a1["HD_mm"].get<double>(), ref.hd);
  EXPECT_DOUBLE_EQ(a1["HD95_mm"].get<double>(), ref.hd95);
  EXPECT_DOUBLE_EQ(a1["ASSD_mm"].get<double>(), ref.assd);
  // label 2 missed: Dice 0, no distance; label 3 in neither mask: undefined (null)
  EXPECT_EQ(a["metrics"]["2"]["Dice"], 0.0);
  EXPECT_TRUE(a["metrics"]["2"]["HD95_mm"].is_null());
  EXPECT_TRUE(a["metrics"]["3"]["Dice"].is_null());
  const json& b = s["metric_per_case"][1];
  EXPECT_EQ(b["metrics"]["1"]["Dice"], 1.0);
  EXPECT_EQ(b["metrics"]["1"]["HD_mm"], 0.0);
  EXPECT_TRUE(b["metrics"]["2"]["Dice"].is_null());
  EXPECT_EQ(b["metrics"]["3"]["Dice"], 0.0);
  EXPECT_EQ(b["metrics"]["3"]["FP"], 1);
  // means over the cases with a value; foreground_mean over the labels' means
  EXPECT_DOUBLE_EQ(s["mean"]["1"]["Dice"].get<double>(), (24.0 / 28.0 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(s["mean"]["2"]["Dice"].get<double>(), 0.0);  // case b's null left out
  EXPECT_DOUBLE_EQ(s["mean"]["3"]["Dice"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(s["foreground_mean"]["Dice"].get<double>(), (24.0 / 28.0 + 1.0) / 6);
  EXPECT_DOUBLE_EQ(s["mean"]["1"]["TP"].get<double>(), (12.0 + 2.0) / 2);
  EXPECT_NE(text.find("foreground"), std::string::npos);

  // --labels with a region: "1+2" is the union, keyed as nnU-Net keys regions
  ASSERT_EQ(call({"evaluate", d.pred, d.gt, "--labels", "1,1+2", "-o", out}), 0);
  const json r = json::parse(std::ifstream(out));
  EXPECT_EQ(r["labels"], (json{"1", "(1, 2)"}));
  EXPECT_EQ(r["metric_per_case"][0]["metrics"]["(1, 2)"]["n_ref"], 17);
  EXPECT_EQ(r["metric_per_case"][0]["metrics"]["(1, 2)"]["TP"], 12);
  // default output: PRED_DIR/summary.json
  ASSERT_EQ(call({"evaluate", d.pred, d.gt}), 0);
  EXPECT_TRUE(std::filesystem::exists(d.pred + "/summary.json"));
}

TEST(SegtoolEvaluate, GridMismatchAndMissingCasesAreErrorsNamingTheFiles) {
  Dirs d;
  Volume g = labels({6, 6, 2}), p = g;
  g.at(2, 2, 0) = p.at(2, 2, 0) = 1;
  write_image(d.gt + "/c.nii.gz", g);
  Volume shifted = p;
  shifted.affine[0][3] = 4.0;  // same dims and spacing, another position
  write_image(d.pred + "/c.nii.gz", shifted);
  std::string e = error_of({"evaluate", d.pred, d.gt});
  EXPECT_NE(e.find(d.pred + "/c.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find(d.gt + "/c.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("do not overlay"), std::string::npos) << e;
  Volume other = labels({6, 5, 2});
  write_image(d.pred + "/c.nii.gz", other);
  e = error_of({"evaluate", d.pred, d.gt});
  EXPECT_NE(e.find("not the same grid"), std::string::npos) << e;
  Volume spaced = p;
  spaced.spacing[2] = 3.0;
  spaced.affine[2][2] = 3.0;
  write_image(d.pred + "/c.nii.gz", spaced);
  e = error_of({"evaluate", d.pred, d.gt});
  EXPECT_NE(e.find("spacing"), std::string::npos) << e;
  write_image(d.pred + "/c.nii.gz", p);
  write_image(d.gt + "/d.nii.gz", g);
  e = error_of({"evaluate", d.pred, d.gt});
  EXPECT_NE(e.find("have no prediction"), std::string::npos) << e;
  EXPECT_NE(e.find("d"), std::string::npos) << e;
  std::filesystem::remove(d.gt + "/d.nii.gz");
  EXPECT_EQ(call({"evaluate", d.pred, d.gt, "-o", (d.root / "s.json").string()}), 0);
  // usage errors: exit 2
  testing::internal::CaptureStderr();
  EXPECT_EQ(call({"evaluate", d.pred}), 2);
  EXPECT_EQ(call({"evaluate", d.pred, d.gt, "--labels", "1,x"}), 2);
  EXPECT_EQ(call({"evaluate", d.pred, d.gt, "--labels", "0"}), 2);
  EXPECT_EQ(call({"evaluate", d.pred, d.gt, "--bogus"}), 2);
  testing::internal::GetCapturedStderr();
}
