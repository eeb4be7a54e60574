// pe_study end to end on tiny phantoms (32², U-Net width 2, 4-layer CNN width 4, 1 epoch, 1 seed): Table 1 (the
// averaged-mask rows, the U-Net without and with PE on both data sets; table.json rows with dataset, model and dice
// {mean, std, per_seed, per_class} and the paper's numbers), a repeated command that reads the runs back, Table 2's
// training subsets, Fig. 3 (degradation panels as SVG + PNG, numbers in JSON and CSV; its runs at --cnn-size) and
// Fig. 5 (shift panels) reusing Table 1's runs; --describe with the paper's exact parameter counts; bad options.
#include <gtest/gtest.h>

#include "tests/apps/app_test_util.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

using namespace seg;

namespace {

using apptest::read_json;

using apptest::AppRun;
AppRun run_app(const std::string& args) { return apptest::run_app("pe_study", args); }

std::string tmpdir(const std::string& name) { return apptest::fresh_tmpdir("pe_study", name); }

// 16 JSRT phantom images (10 / 1 / 4) and 5 ACDC phantom subjects (3 / 1 / 1), 32², 1 epoch, 1 seed, CPU.
const std::string kTiny = "--jsrt-images 16 --acdc-subjects 5 --size 32 --cnn-size 32 --width 2 --cnn-width 4 "
                          "--batch 8 --epochs 1 --seeds 1 --max-minutes-per-run 0 --device cpu --lambdas 10";

}  // namespace

TEST(PeStudy, Table1ThenFiguresReuseItsRuns) {
  const std::string out = tmpdir("t1");
  AppRun r = run_app("--table 1 " + kTiny + " --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  for (const char* f : {"table1.json", "table1.md", "table1.csv"}) EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const nlohmann::json t = read_json(out + "/table1.json");
  ASSERT_EQ(t.at("rows").size(), 8u);  // per data set: averaged mask (hard, soft), U-Net w/o PE, w/ PE λ 10
  std::set<std::string> datasets;
  for (const auto& row : t["rows"]) {
    datasets.insert(row.at("dataset").get<std::string>());
    const auto& d = row.at("dice");
    for (const char* k : {"mean", "std", "per_patient", "per_seed", "per_class", "std_over_seeds"}) EXPECT_TRUE(d.contains(k)) << k;
    EXPECT_EQ(d["per_class"].size(), 3u);
    EXPECT_GE(d["mean"].get<double>(), 0.0);
    EXPECT_LE(d["mean"].get<double>(), 1.0);
    EXPECT_EQ(d["per_patient"].size(), row["dataset"] == "jsrt" ? 4u : 2u);  // test images / the test subject's frames
  }
  EXPECT_EQ(datasets, (std::set<std::string>{"jsrt", "acdc"}));
  EXPECT_EQ(t["rows"][0]["model"], "averaged mask");
  EXPECT_EQ(t["rows"][0]["paper"]["dice"], "0.8124");
  EXPECT_TRUE(t["rows"][0]["dice"]["per_class"].contains("right lung"));
  bool saw_pe = false;
  for (const auto& row : t["rows"])
    if (row["key"] == "acdc_unet_zeros_pe10") {
      saw_pe = true;
      EXPECT_EQ(row["paper"]["dice"], "0.8557 ± 0.0035");
      EXPECT_TRUE(row["dice"]["per_class"].contains("myocardium"));
      EXPECT_TRUE(row.contains("p_value_vs_no_pe"));
    }
  EXPECT_TRUE(saw_pe);
  const std::string md = [&] {
    std::ifstream f(out + "/table1.md");
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }();
  EXPECT_NE(md.find("0.9673 ± 0.0011"), std::string::npos);
  EXPECT_NE(md.find("Per structure"), std::string::npos);
  EXPECT_NE(md.find("phantom"), std::string::npos);

  // The same command again reads every run back: the same table.
  const auto before = fs::last_write_time(out + "/runs/jsrt_unet_zeros_pe0/seed0/best.safetensors");
  AppRun again = run_app("--table 1 " + kTiny + " --out " + out);
  ASSERT_EQ(again.rc, 0) << again.output;
  EXPECT_EQ(fs::last_write_time(out + "/runs/jsrt_unet_zeros_pe0/seed0/best.safetensors"), before);
  EXPECT_EQ(read_json(out + "/table1.json")["rows"][2]["dice"]["mean"], t["rows"][2]["dice"]["mean"]);

  // Fig. 5 (λ 10 to reuse Table 1's PE runs): shift panels per data set, no new training.
  AppRun f5 = run_app("--figure 5 --pe 10 " + kTiny + " --out " + out);
  ASSERT_EQ(f5.rc, 0) << f5.output;
  EXPECT_EQ(fs::last_write_time(out + "/runs/jsrt_unet_zeros_pe0/seed0/best.safetensors"), before);
  const nlohmann::json f = read_json(out + "/figure5.json");
  ASSERT_EQ(f.at("panels").size(), 2u);
  for (const auto& pan : f["panels"]) {
    EXPECT_EQ(pan.at("panel"), "shift");
    EXPECT_EQ(pan.at("levels").size(), 9u);
    ASSERT_EQ(pan.at("models").size(), 2u);
    for (const auto& m : pan["models"]) EXPECT_EQ(m.at("mean").size(), 9u);
    EXPECT_TRUE(fs::exists(out + "/" + pan["svg"].get<std::string>()));
    EXPECT_TRUE(fs::exists(out + "/" + pan["png"].get<std::string>()));
  }
  EXPECT_TRUE(fs::exists(out + "/figure5.csv"));
  EXPECT_TRUE(fs::exists(out + "/figure5_clean.md"));
  EXPECT_TRUE(fs::exists(out + "/runs/acdc_unet_zeros_pe10/seed0/robustness.json"));
  fs::remove_all(out);
}

TEST(PeStudy, Figure3SmallCnnDegradationPanels) {
  const std::string out = tmpdir("f3");
  AppRun r = run_app("--figure 3 --datasets jsrt " + kTiny + " --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json f = read_json(out + "/figure3.json");
  ASSERT_EQ(f.at("panels").size(), 3u);  // Gaussian noise, Gaussian blur, shot noise
  for (const auto& pan : f["panels"]) {
    EXPECT_EQ(pan.at("levels").size(), 5u);
    ASSERT_EQ(pan.at("models").size(), 2u);  // without and with PE
    for (const auto& m : pan["models"]) {
      ASSERT_EQ(m.at("mean").size(), 6u);  // clean + 5 levels
      for (const auto& v : m["mean"]) EXPECT_TRUE(v.get<double>() >= 0 && v.get<double>() <= 1);
    }
    EXPECT_TRUE(fs::exists(out + "/" + pan["png"].get<std::string>()));
  }
  const nlohmann::json clean = read_json(out + "/figure3_clean.json");
  ASSERT_EQ(clean.at("rows").size(), 2u);
  EXPECT_EQ(clean["rows"][1]["paper"]["dice"], "about 0.9");  // the paper's text on its Fig. 3, beside ours
  const nlohmann::json cfg = read_json(out + "/runs/jsrt_cnn4_zeros_pe256/seed0/config.json");
  EXPECT_EQ(cfg.at("model"), "small_cnn");
  EXPECT_EQ(cfg.at("pe_lambda"), 256.0);
  EXPECT_EQ(cfg.at("augmentation"), "none");
  fs::remove_all(out);
}

TEST(PeStudy, Table2TrainingSubsets) {
  const std::string out = tmpdir("t2");
  AppRun r = run_app("--table 2 --jsrt-images 24 --size 32 --width 2 --batch 8 --epochs 1 --seeds 1 "
                     "--max-minutes-per-run 0 --device cpu --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json t = read_json(out + "/table2.json");
  ASSERT_EQ(t.at("rows").size(), 6u);
  EXPECT_EQ(t["rows"][2]["key"], "jsrt_unet_zeros_pe0_n10");
  EXPECT_EQ(t["rows"][5]["paper"]["dice"], "0.8774 ± 0.0055");
  const nlohmann::json n5 = read_json(out + "/runs/jsrt_unet_zeros_pe256_n5/seed0/config.json");
  EXPECT_EQ(n5["train_cases"].size(), 5u);
  EXPECT_EQ(n5["batch"], 5);  // batch 8 capped at the 5 training images
  for (const auto& row : t["rows"]) {
    const double m = row.at("dice").at("mean").get<double>();
    EXPECT_TRUE(m >= 0 && m <= 1) << row["key"];
  }
  fs::remove_all(out);
}

TEST(PeStudy, DescribeListsThePapersExactCounts) {
  AppRun r = run_app("--describe --paper");
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.at("models").size(), 4u);
  EXPECT_EQ(j["models"][0]["parameters"], 13394372);
  EXPECT_EQ(j["models"][1]["parameters"], 13394372 + 1152);
  EXPECT_EQ(j["models"][2]["parameters"], 75140);
  EXPECT_EQ(j["models"][3]["parameters"], 76292);
}

TEST(PeStudy, BadOptionsFailClearly) {
  for (const auto& [args, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"--table 3", "--table: expected 1 or 2"},
           {"--table 1 --figure 2", "give one of --table"},
           {"--figure 2 --size 30", "multiple of 16"},
           {"--table 1 --datasets jsrt,mnist", "expected jsrt or acdc"},
           {"--table 1 --lambdas 0", "every λ must be > 0"},
           {"--table 1 --data-jsrt /nonexistent/jsrt", "/nonexistent/jsrt"},
           {"--tabel 1", "tabel"}}) {
    AppRun r = run_app(args);
    EXPECT_NE(r.rc, 0) << args;
    EXPECT_NE(r.output.find(phrase), std::string::npos) << args << ": " << r.output;
  }
}
