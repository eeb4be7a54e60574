// shape_descriptors end to end on tiny phantoms (32², 1–2 epochs): --table 1 writes table.json (rows: dataset,
// supervision, per-class dice {mean, std, per_patient}, the paper's row, ACDC's "overall") and table.md, and the Fig 4
// figures (training / validation Dice curves and the per-case test Dice distribution, SVG + PNG) for both data sets;
// a repeated command reads the finished runs back; a single run writes its run folder with the barrier's t in the
// curve (× 1.1 per epoch); an ACDC-layout folder without any RV label reports RV as absent (never Dice 0);
// --describe gives the exact parameter counts; bad options fail with a clear message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/paper5/data.h"
#include "apps/toolkit/results.h"
#include "data/formats/nifti.h"
#include "data/phantoms/acdc_phantom.h"

namespace fs = std::filesystem;
using namespace seg;

namespace {

struct AppRun {
  int rc;
  std::string output;
};

const std::string kApp = std::string(SEG_APPS_DIR) + "/shape_descriptors";

AppRun run_app(const std::string& args) {
  const std::string cmd = kApp + " " + args + " 2>&1";
  AppRun r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string tmpdir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("shape_descriptors_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

// 4 phantom patients per data set → 2 training / 1 validation / 1 test patient; 32²; no time budget.
const char* kTiny = "--patients 4 --size 32 --batch-acdc 8 --batch-promise12 4 --max-minutes-per-run 0 --device cpu";

}  // namespace

TEST(ShapeDescriptors, TinyTable1WritesTableAndFigure4) {
  const std::string out = tmpdir("table");
  AppRun r = run_app(std::string("--table 1 ") + kTiny + " --epochs-acdc 2 --epochs-promise12 1 --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  for (const char* f : {"table.json", "table.md", "figure4_acdc_train_dice.svg", "figure4_acdc_train_dice.png",
                        "figure4_acdc_val_dice.svg", "figure4_acdc_val_dice.png", "figure4_acdc_test_dice.svg",
                        "figure4_acdc_test_dice.png", "figure4_promise12_val_dice.svg", "figure4_promise12_test_dice.png"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const nlohmann::json t = read_json(out + "/table.json");
  EXPECT_EQ(t.at("table"), "1");
  ASSERT_EQ(t.at("rows").size(), 4u);
  int acdc = 0;
  for (const auto& row : t["rows"]) {
    const bool is_acdc = row.at("dataset") == "acdc";
    acdc += is_acdc;
    EXPECT_TRUE(row.at("supervision") == "ce" || row.at("supervision") == "descriptors");
    const std::vector<std::string> classes = is_acdc ? std::vector<std::string>{"RV", "Myo", "LV"}
                                                     : std::vector<std::string>{"prostate"};
    for (const auto& c : classes) {
      const auto& d = row.at("dice").at(c);
      ASSERT_TRUE(d.contains("mean") && d.contains("std") && d.contains("per_patient")) << c;
      EXPECT_EQ(d["per_patient"].size(), is_acdc ? 2u : 1u) << c;  // the test patient: ED and ES (ACDC), one case
      for (const auto& [cs, v] : d["per_patient"].items()) {
        EXPECT_GE(v.get<double>(), 0.0);
        EXPECT_LE(v.get<double>(), 1.0);
      }
      EXPECT_TRUE(row.at("paper").contains(c)) << c;
    }
    if (is_acdc) {
      EXPECT_TRUE(row["dice"].contains("overall"));
    }
    if (row["supervision"] == "descriptors") {
      EXPECT_TRUE(row["dice"][classes[0]].contains("p_value_vs_ce"));
    }
  }
  EXPECT_EQ(acdc, 2);
  const std::string md = read_text(out + "/table.md");
  EXPECT_NE(md.find("0.825 (0.107)"), std::string::npos);  // the paper's descriptor RV cell beside ours
  EXPECT_NE(md.find("0.651 (0.098)"), std::string::npos);
  // every run folder is complete and the descriptor runs logged the barrier's t, × 1.1 per epoch
  const Curve c = Curve::read(out + "/runs/acdc_descriptors/seed0");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NEAR(c.value(0, "var_t"), 1.1, 1e-9);
  EXPECT_NEAR(c.value(1, "var_t"), 1.21, 1e-9);
  for (const char* col : {"train_size", "train_centroid", "train_distance", "train_length", "train_ratio", "train_dice_RV",
                          "val_dice_RV", "val_dice_Myo", "val_dice_LV"})
    EXPECT_TRUE(std::isfinite(c.value(0, col))) << col;
  // a repeated command reads the four runs back
  AppRun again = run_app(std::string("--table 1 ") + kTiny + " --epochs-acdc 2 --epochs-promise12 1 --out " + out);
  ASSERT_EQ(again.rc, 0) << again.output;
  size_t reused = 0, pos = 0;
  while ((pos = again.output.find("not redone", pos)) != std::string::npos) ++reused, ++pos;
  EXPECT_EQ(reused, 4u) << again.output;
  fs::remove_all(out);
}

TEST(ShapeDescriptors, AcdcFolderWithoutRvReportsItAbsent) {
  // An ACDC-layout folder (official names, Info.cfg) whose label maps have no RV: the phantom with label 1 removed.
  const std::string data = tmpdir("nrv_data"), out = tmpdir("nrv_out");
  write_acdc_phantom(data, 4, 3, {.nx = 64});
  int relabelled = 0;
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    const std::string p = e.path().string();
    if (p.size() < 10 || p.substr(p.size() - 10) != "_gt.nii.gz") continue;
    Volume v = read_nifti(p);
    for (float& x : v.data)
      if (x == 1.f) x = 0.f;
    write_nifti(p, v);
    ++relabelled;
  }
  ASSERT_EQ(relabelled, 8);
  AppRun r = run_app(std::string("--table 1 --dataset acdc --data ") + data + " " + kTiny + " --epochs-acdc 1 --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("class RV occurs in no case"), std::string::npos) << r.output;
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 2u);
  for (const auto& row : t["rows"]) {
    EXPECT_EQ(row.at("dice").at("RV"), "absent");
    EXPECT_TRUE(row["dice"].at("Myo").contains("mean"));
  }
  EXPECT_NE(read_text(out + "/table.md").find("RV: absent"), std::string::npos);
  fs::remove_all(data);
  fs::remove_all(out);
}

TEST(ShapeDescriptors, DescribeGivesExactCounts) {
  AppRun r = run_app("--describe");
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.at("models").size(), 3u);
  EXPECT_EQ(j["models"][0]["parameters"], 460845);
  EXPECT_EQ(j["models"][1]["parameters"], 463475);
  EXPECT_EQ(j["models"][2]["parameters"], 19645250);
}

TEST(ShapeDescriptors, BadOptionsFailClearly) {
  AppRun r = run_app("--table 2");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.output.find("Table 1 only"), std::string::npos) << r.output;
  r = run_app("--dataset brats --table 1");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.output.find("acdc or promise12"), std::string::npos) << r.output;
  r = run_app("--dataset acdc --supervision dice");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.output.find("ce or descriptors"), std::string::npos) << r.output;
  r = run_app("--table 1 --data /nonexistent/folder");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.output.find("--data DIR names one folder"), std::string::npos) << r.output;
  r = run_app("--table 1 --dataset acdc --data /nonexistent/folder");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.output.find("/nonexistent/folder"), std::string::npos) << r.output;
  r = run_app("--size 40 --dataset acdc --supervision ce");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.output.find("multiple of 16"), std::string::npos) << r.output;
}
