// multitask (paper 4) end to end on tiny phantoms (32², base width 4, one epoch): Table 1 (two variants on polyp and
// disc) writes table.json with per-image Dice and Jaccard, the paper's numbers and the t-test key, table.md, the
// figures; a repeated command reads the finished runs back; Table 3 (D1 and D3 on the cup); Table 2 (parameters equal
// the paper's, inference timed); --describe lists the five exact counts; the real Kvasir-SEG and DRIONS samples run
// (the disc-only DRIONS folder skips the cup with the reason; skipped when ../shared/data/real is absent); bad
// options fail clearly.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct AppRun {
  int rc;
  std::string output;
};

const std::string kMultitask = std::string(SEG_APPS_DIR) + "/multitask";

AppRun run_multitask(const std::string& args) {
  const std::string cmd = kMultitask + " " + args + " 2>&1";
  AppRun r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string out_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("multitask_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

size_t pngs(const std::string& dir) {
  size_t n = 0;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".png";
  return n;
}

// 10 phantom images per data set → 6 training / 1 validation / 3 test images; 32², width 4, 1 epoch, no budget.
const char* kTiny = "--images 10 --size 32 --width 4 --epochs 1 --max-minutes-per-run 0 --lr-schedule constant "
                    "--device cpu --figures 2";

}  // namespace

TEST(Multitask, DescribeListsTheFiveExactCounts) {
  AppRun r = run_multitask("--describe");
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.at("models").size(), 5u);
  const std::vector<std::pair<std::string, int64_t>> want{
      {"m", 7844256}, {"2dec-mc", 10978272}, {"2dec-md", 10977984}, {"conv-mc", 7844832}, {"conv-md", 7844544}};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(j["models"][i]["variant"], want[i].first);
    EXPECT_EQ(j["models"][i]["parameters"].get<int64_t>(), want[i].second);
  }
}

TEST(Multitask, TinyTable1WritesTableFiguresAndIsNotRedone) {
  const std::string out = out_dir("t1");
  const std::string args = std::string(kTiny) + " --table 1 --structures polyp,disc --variants m,conv-md --out " + out;
  AppRun r = run_multitask(args);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("protocol (CPU defaults"), std::string::npos) << r.output;  // the differences are printed
  for (const char* f : {"table.json", "table.md", "table.csv"}) EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 4u);
  for (const auto& row : t["rows"]) {
    SCOPED_TRACE(row.at("key").get<std::string>());
    EXPECT_TRUE(row.at("dataset") == "polyp" || row.at("dataset") == "fundus");
    for (const char* m : {"dice", "jaccard"}) {
      ASSERT_TRUE(row.contains(m)) << m;
      EXPECT_TRUE(row[m].contains("mean") && row[m].contains("std")) << m;
      EXPECT_EQ(row[m].at("per_image").size(), 3u) << m;  // the 30 % test images
      for (const auto& [id, v] : row[m]["per_image"].items()) EXPECT_TRUE(v.is_null() || (v >= 0 && v <= 1)) << id;
    }
    EXPECT_TRUE(row.contains("p_value_vs_m"));
    EXPECT_TRUE(fs::exists(row.at("runs")[0].get<std::string>() + "/results.json"));
    EXPECT_EQ(pngs(row.at("runs")[0].get<std::string>() + "/figures"), 2u);
  }
  EXPECT_EQ(t["rows"][0]["key"], "polyp_m");
  EXPECT_DOUBLE_EQ(t["rows"][0]["paper"]["dice"].get<double>(), 0.8125);   // Table 1, 1Enc1Dec M, polyp
  EXPECT_DOUBLE_EQ(t["rows"][3]["paper"]["jaccard"].get<double>(), 0.9348);  // 1Enc1Dec+Conv MD, disc
  const nlohmann::json cfg = read_json(out + "/runs/disc_conv-md/seed0/config.json");
  EXPECT_EQ(cfg.at("ellipse_fit"), true);  // disc and cup: the ellipse post-processing
  EXPECT_EQ(cfg.at("distance_map"), "D3");
  EXPECT_EQ(read_json(out + "/runs/polyp_m/seed0/config.json").at("ellipse_fit"), false);
  std::ifstream md(out + "/table.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("0.8291"), std::string::npos) << text;  // the paper's +Conv MD polyp Dice beside ours
  AppRun again = run_multitask(args);
  ASSERT_EQ(again.rc, 0) << again.output;
  EXPECT_NE(again.output.find("finished run with this configuration found, not redone"), std::string::npos);
  fs::remove_all(out);
}

TEST(Multitask, TinyTable3DistanceMaps) {
  const std::string out = out_dir("t3");
  AppRun r = run_multitask(std::string(kTiny) + " --table 3 --structures cup --distance-maps D1,D3 --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 2u);
  EXPECT_EQ(t["rows"][0]["key"], "cup_D1");
  EXPECT_EQ(t["rows"][0]["distance_map"], "D1");
  EXPECT_DOUBLE_EQ(t["rows"][0]["paper"]["dice"].get<double>(), 0.8727);
  EXPECT_TRUE(t["rows"][0].contains("p_value_vs_d3"));
  EXPECT_EQ(read_json(out + "/runs/cup_D1/seed0/config.json").at("variant"), "conv-md");
  fs::remove_all(out);
}

TEST(Multitask, Table2ParametersAndInferenceTime) {
  const std::string out = out_dir("t2");
  AppRun r = run_multitask("--table 2 --infer-size 32 --infer-reps 2 --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 5u);
  for (const auto& row : t["rows"]) {
    EXPECT_EQ(row.at("parameters"), row.at("paper_parameters"));
    EXPECT_TRUE(row.at("parameters_equal_paper").get<bool>());
    EXPECT_GT(row.at("cpu_ms").get<double>(), 0);
    EXPECT_GT(row.at("paper_ms_gtx1060").get<double>(), 1.0);
  }
  EXPECT_TRUE(fs::exists(out + "/table.md"));
  fs::remove_all(out);
}

TEST(Multitask, RealKvasirAndDrionsSamples) {
  const std::string real = std::string(SEG_SHARED_DIR) + "/data/real/";
  const std::string kvasir = real + "kvasir_seg_polyp_samples", drions = real + "drions_fundus_optic_disc";
  if (!fs::exists(kvasir) || !fs::exists(drions)) GTEST_SKIP() << "real samples absent (" << real << ")";
  const std::string out = out_dir("real");
  AppRun r = run_multitask(std::string(kTiny) + " --table 1 --variants conv-mc --data-polyp " + kvasir + " --data-fundus " +
                           drions + " --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("skipped: cup (no cup label in " + drions), std::string::npos) << r.output;
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 2u);  // disc and polyp
  EXPECT_EQ(t["rows"][0]["key"], "disc_conv-mc");
  EXPECT_EQ(t["rows"][1]["key"], "polyp_conv-mc");
  EXPECT_EQ(t["rows"][1]["dice"]["per_image"].size(), 2u);  // 5 Kvasir images: 2 train, 1 validation, 2 test
  EXPECT_NE(r.output.find("batch 2 instead of 4"), std::string::npos) << r.output;
  EXPECT_EQ(t["rows"][0]["dice"]["per_image"].size(), 6u);  // 19 DRIONS images: 13 train (12 + 1 validation), 6 test
  fs::remove_all(out);
}

TEST(Multitask, BadOptionsFailClearly) {
  AppRun a = run_multitask("--table 4");
  EXPECT_NE(a.rc, 0);
  EXPECT_NE(a.output.find("--table: expected 1, 2 or 3"), std::string::npos) << a.output;
  AppRun b = run_multitask("");
  EXPECT_NE(b.rc, 0);
  EXPECT_NE(b.output.find("--table 1|2|3 or --describe"), std::string::npos) << b.output;
  AppRun c = run_multitask("--table 1 --structures liver");
  EXPECT_NE(c.rc, 0);
  EXPECT_NE(c.output.find("liver"), std::string::npos) << c.output;
  AppRun d = run_multitask("--table 1 --size 48");
  EXPECT_NE(d.rc, 0);
  EXPECT_NE(d.output.find("multiple of 32"), std::string::npos) << d.output;
  AppRun e = run_multitask("--table 1 --structures polyp --data-polyp /nonexistent/polyps");
  EXPECT_NE(e.rc, 0);
  EXPECT_NE(e.output.find("/nonexistent/polyps"), std::string::npos) << e.output;
  AppRun f = run_multitask("--table 1 --variants m,conv-mx");
  EXPECT_NE(f.rc, 0);
  EXPECT_NE(f.output.find("conv-mx"), std::string::npos) << f.output;
}
