// Smoke tests of segthor_weak: a tiny run (3 phantom patients, 32×32, 1 epoch) writes every promised file with the
// promised keys; --resume continues a run; --paper sets the paper's size bounds and 6 / 4 split; --describe prints
// the model as JSON; bad options and a bad --data folder fail with a clear message and leave earlier outputs intact.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace fs = std::filesystem;

namespace {

struct AppRun {
  int rc;
  std::string output;
};

AppRun run_app(const std::string& args) {
  const std::string cmd = std::string(SEG_APPS_DIR) + "/segthor_weak " + args + " 2>&1";
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
  fs::path d = fs::temp_directory_path() / ("segthor_weak_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

const char* kTiny = "--size 32 --epochs 1 --patients 3 --train-patients 2 --val-patients 1 --phantom-slice-mm 10 --device cpu --max-minutes 0";

}  // namespace

TEST(SegthorWeak, TinyRunWritesEveryOutput) {
  const std::string out = tmpdir("tiny");
  AppRun r = run_app(std::string(kTiny) + " --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("epoch 1/1"), std::string::npos) << r.output;
  for (const char* f : {"results.json", "results.md", "config.json", "curve.csv", "curve.svg", "curve.png", "best.safetensors",
                        "last.safetensors"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  std::ifstream jf(out + "/results.json");
  nlohmann::json j = nlohmann::json::parse(jf);
  for (const char* k : {"dice_volume", "dice_heart_slices", "hd_mm", "hd95_mm"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_TRUE(j[k].contains("mean") && j[k].contains("std") && j[k].contains("per_patient")) << k;
    EXPECT_EQ(j[k]["per_patient"].size(), 1u) << k;
  }
  EXPECT_TRUE(j.contains("config") && j.contains("epochs") && j.contains("time_s"));
  const double d = j["dice_volume"]["per_patient"].begin()->get<double>();
  EXPECT_GE(d, 0.0);
  EXPECT_LE(d, 1.0);
  std::ifstream md(out + "/results.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("0.82 ± 0.20"), std::string::npos) << "the paper's weak baseline figure beside ours";
  bool overlay = false;
  if (fs::exists(out + "/overlays"))
    for (auto& e : fs::directory_iterator(out + "/overlays")) overlay |= e.path().extension() == ".png";
  EXPECT_TRUE(overlay);
  // resume from the last checkpoint for one more epoch
  AppRun r2 = run_app(std::string("--size 32 --epochs 2 --patients 3 --train-patients 2 --val-patients 1 --phantom-slice-mm 10 --device cpu --max-minutes 0 --resume ") +
               out + "/last.safetensors --out " + out);
  ASSERT_EQ(r2.rc, 0) << r2.output;
  EXPECT_NE(r2.output.find("resumed"), std::string::npos) << r2.output;
  EXPECT_NE(r2.output.find("epoch 2/2"), std::string::npos) << r2.output;
  std::ifstream jf2(out + "/results.json");
  EXPECT_EQ(nlohmann::json::parse(jf2).at("epochs_run"), 2);
  // the same command again: the finished run is read back, not redone
  AppRun r3 = run_app(std::string(kTiny) + " --epochs 2 --out " + out);
  ASSERT_EQ(r3.rc, 0) << r3.output;
  EXPECT_NE(r3.output.find("not redone"), std::string::npos) << r3.output;
  EXPECT_EQ(r3.output.find("epoch 1/2"), std::string::npos) << r3.output;
  fs::remove_all(out);
}

TEST(SegthorWeak, PaperPresetSetsThePaperBoundsAndSplit) {
  const std::string out = tmpdir("paper");
  // --paper with a small explicit size: the paper's [210, 7800] px at 256² scale to 32² by (32/256)²
  AppRun r = run_app("--paper --size 32 --epochs 1 --patients 11 --phantom-slice-mm 20 --device cpu --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  std::ifstream jf(out + "/results.json");
  const nlohmann::json j = nlohmann::json::parse(jf);
  EXPECT_NEAR(j["data"]["bounds"][0].get<double>(), 210.0 / 64, 1e-9);
  EXPECT_NEAR(j["data"]["bounds"][1].get<double>(), 7800.0 / 64, 1e-9);
  EXPECT_EQ(j["data"]["bounds_source"], "given");
  EXPECT_EQ(j["data"]["train_patients"], 6);
  EXPECT_EQ(j["data"]["val_patients"], 4);
  EXPECT_EQ(j["data"]["left_out"].size(), 1u);
  EXPECT_EQ(j["config"]["lr"], 5e-4);
  EXPECT_EQ(j["config"]["max_minutes"], 0.0);
  fs::remove_all(out);
}

TEST(SegthorWeak, DescribePrintsTheModelWithoutLoadingData) {
  AppRun r = run_app("--describe --coordconv all --data /nonexistent/segthor");
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.at("models").size(), 1u);
  EXPECT_EQ(j["models"][0]["name"], "residual_unet");
  EXPECT_EQ(j["models"][0]["variant"], "coordconv-all");
  EXPECT_GT(j["models"][0]["parameters"].get<int64_t>(), 19'000'000);
}

TEST(SegthorWeak, BadInputsFailClearlyAndKeepOutputs) {
  const std::string out = tmpdir("bad");
  fs::create_directories(out);
  { std::ofstream(out + "/results.json") << "{\"keep\": true}\n"; }
  AppRun a = run_app("--no-such-option 3 --out " + out);
  EXPECT_NE(a.rc, 0);
  EXPECT_NE(a.output.find("unknown option '--no-such-option'"), std::string::npos) << a.output;
  AppRun b = run_app(std::string(kTiny) + " --data /nonexistent/segthor --out " + out);
  EXPECT_NE(b.rc, 0);
  EXPECT_NE(b.output.find("/nonexistent/segthor"), std::string::npos) << b.output;
  AppRun c = run_app("--size 30 --out " + out);
  EXPECT_NE(c.rc, 0);
  EXPECT_NE(c.output.find("multiple of 16"), std::string::npos) << c.output;
  std::ifstream jf(out + "/results.json");
  std::string kept((std::istreambuf_iterator<char>(jf)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "{\"keep\": true}\n");
  fs::remove_all(out);
}
