// coordconv_tables end to end on a tiny ACDC phantom grid (32², batch 8, 1–3 epochs; 2 variants × 1 seed, and
// 1 variant × 2 seeds for the kill):
// the table (JSON with per-patient values and p-values, Markdown with the paper's numbers, CSV) and Fig. 4 (SVG + PNG)
// are written; a grid killed with SIGKILL in the middle of a run continues when the same command is repeated — the
// finished runs are read back, the interrupted one resumes from its last checkpoint — and gives the full table;
// --describe lists the four variants; bad options fail with a clear message.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct AppRun {
  int rc;
  std::string output;
};

const std::string kApp = std::string(SEG_APPS_DIR) + "/coordconv_tables";

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
  fs::path d = fs::temp_directory_path() / ("coordconv_tables_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

// 3 ACDC phantom patients → 2 training / 1 validation patient (2 frames each), 32², batch 8, CPU, no time budget.
const char* kTiny = "--table 2 --supervision full --patients 3 --size 32 --batch 8 --max-minutes-per-run 0 "
                    "--lr-schedule constant --device cpu";

}  // namespace

TEST(CoordconvTables, TinyGridWritesTableAndFigure) {
  const std::string out = tmpdir("grid");
  AppRun r = run_app(std::string(kTiny) + " --variants none,1st --seeds 1 --epochs 1 --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  for (const char* f : {"table.json", "table.md", "table.csv", "figure4.svg", "figure4.png", "figure4.csv"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const nlohmann::json t = read_json(out + "/table.json");
  EXPECT_EQ(t.at("table"), "II");
  ASSERT_EQ(t.at("rows").size(), 2u);
  for (const auto& row : t["rows"]) {
    EXPECT_EQ(row.at("supervision"), "full");
    EXPECT_EQ(row.at("seeds"), (nlohmann::json{0}));
    for (const char* k : {"dice_volume", "hd_mm", "hd95_mm"}) {
      ASSERT_TRUE(row.contains(k)) << k;
      EXPECT_TRUE(row[k].contains("mean") && row[k].contains("std") && row[k].contains("per_patient")) << k;
      EXPECT_EQ(row[k]["per_patient"].size(), 2u) << k;  // one validation patient: its ED and ES frames
    }
    EXPECT_TRUE(row.contains("p_value_vs_none"));
  }
  EXPECT_EQ(t["rows"][0]["variant"], "none");
  EXPECT_TRUE(t["rows"][0]["p_value_vs_none"].is_null());
  const auto& p = t["rows"][1]["p_value_vs_none"];
  EXPECT_TRUE(p.is_null() || (p.get<double>() >= 0 && p.get<double>() <= 1)) << p;
  EXPECT_EQ(t["rows"][1]["paper"]["dice"], "0.85 ± 0.26");  // Table II, CoordConv-1st, full supervision
  EXPECT_EQ(t.at("paper").at("table"), "II");
  std::ifstream md(out + "/table.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("0.85 ± 0.27"), std::string::npos) << text;  // the paper's baseline beside ours
  for (const char* run : {"full_none/seed0", "full_1st/seed0"})
    EXPECT_TRUE(fs::exists(out + "/runs/" + run + "/results.json")) << run;
  fs::remove_all(out);
}

TEST(CoordconvTables, KilledGridContinuesWhereItStopped) {
  const std::string out = tmpdir("kill");
  const std::string log = out + ".log";
  fs::create_directories(out);
  const std::string args = std::string(kTiny) + " --variants none --seeds 2 --epochs 3 --out " + out;
  // start the grid as a real process, and SIGKILL it once the second run has finished an epoch (mid-run)
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = "exec " + kApp + " " + args + " > " + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string second = out + "/runs/full_none/seed1";
  bool seen = false;
  for (int i = 0; i < 6000 && !seen; ++i) {  // up to 10 minutes on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = fs::exists(second + "/last.safetensors");
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) FAIL() << "the grid ended before it could be killed";
  }
  ASSERT_TRUE(seen) << "the second run never finished an epoch";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_TRUE(fs::exists(out + "/runs/full_none/seed0/results.json"));
  EXPECT_FALSE(fs::exists(second + "/results.json"));
  const double first_run_mtime = static_cast<double>(fs::last_write_time(out + "/runs/full_none/seed0/results.json").time_since_epoch().count());

  AppRun r = run_app(args);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("finished run with this configuration found, not redone"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  EXPECT_EQ(static_cast<double>(fs::last_write_time(out + "/runs/full_none/seed0/results.json").time_since_epoch().count()),
            first_run_mtime);  // the finished run was not redone
  // the resumed run has each epoch once, 1..3
  const nlohmann::json c = read_json(second + "/curve.json");
  ASSERT_EQ(c.at("rows").size(), 3u);
  for (int e = 0; e < 3; ++e) EXPECT_EQ(c["rows"][e]["epoch"], e + 1);
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 1u);
  EXPECT_EQ(t["rows"][0]["dice_volume"]["per_seed"].size(), 2u);
  fs::remove_all(out);
  fs::remove(log);
}

TEST(CoordconvTables, DescribeListsTheFourVariants) {
  AppRun r = run_app("--describe --data /nonexistent");
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.at("models").size(), 4u);
  int64_t prev = 0;
  for (const auto& m : j["models"]) {
    EXPECT_EQ(m["name"], "residual_unet");
    EXPECT_GT(m["parameters"].get<int64_t>(), prev);  // each placement adds coordinate weights
    prev = m["parameters"].get<int64_t>();
  }
  EXPECT_EQ(j["models"][0]["variant"], "coordconv-none");
}

TEST(CoordconvTables, BadOptionsFailClearly) {
  AppRun a = run_app("--table 3");
  EXPECT_NE(a.rc, 0);
  EXPECT_NE(a.output.find("--table: expected 1 or 2"), std::string::npos) << a.output;
  AppRun b = run_app("");
  EXPECT_NE(b.rc, 0);
  EXPECT_NE(b.output.find("--table 1|2 or --figure 3|4"), std::string::npos) << b.output;
  AppRun c = run_app("--table 1 --variants none,middle");
  EXPECT_NE(c.rc, 0);
  EXPECT_NE(c.output.find("middle"), std::string::npos) << c.output;
  AppRun d = run_app("--table 2 --data /nonexistent/acdc");
  EXPECT_NE(d.rc, 0);
  EXPECT_NE(d.output.find("/nonexistent/acdc"), std::string::npos) << d.output;
  AppRun e = run_app("--table 1 --figure 4");
  EXPECT_NE(e.rc, 0);
  EXPECT_NE(e.output.find("--figure 4 belongs to --table 2"), std::string::npos) << e.output;
}
