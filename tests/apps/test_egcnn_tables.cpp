// egcnn_tables end to end on tiny runs: Table 1 on a BraTS phantom (6 rows: table.json with per-patient region Dice
// and p-values, the paper's numbers, table.md, curves, Fig. 2, run folders with overlays and inference memory; a
// repeated command reads the runs back); Table 2 from a KiTS 2019 folder in the official layout; Table 1 from a
// Decathlon Task01 folder whose label numbering is read from dataset.json; --describe with exact counts; bad options.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "data/formats/nifti.h"
#include "data/phantoms/brats_phantom.h"
#include "data/phantoms/kits_phantom.h"
#include "models/egcnn.h"

namespace fs = std::filesystem;
using namespace seg;

namespace {

struct AppRun {
  int rc;
  std::string output;
};

const std::string kApp = std::string(SEG_APPS_DIR) + "/egcnn_tables";

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
  fs::path d = fs::temp_directory_path() / ("egcnn_tables_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

// Tiny: 16³ patches, 3 resolutions (the fewest the stream takes), 2 steps of 1 epoch, no time budget, CPU.
const char* kTiny = "--patch 16 --levels 3 --epochs 1 --steps-per-epoch 2 --max-minutes-per-run 0 --device cpu";

}  // namespace

TEST(EgcnnTables, TinyTable1WritesTableFigureAndRunFolders) {
  const std::string out = tmpdir("t1");
  const std::string args = std::string("--table 1 --cases 5 --phantom-size 32 ") + kTiny + " --out " + out;
  AppRun r = run_app(args);
  ASSERT_EQ(r.rc, 0) << r.output;
  for (const char* f : {"table.json", "table.md", "table.csv", "curves.svg", "curves.png", "figure2.png"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_NE(r.output.find("EG-CNN − none"), std::string::npos) << r.output;
  const nlohmann::json t = read_json(out + "/table.json");
  EXPECT_EQ(t.at("table"), "1");
  ASSERT_EQ(t.at("rows").size(), 6u);
  for (const auto& row : t["rows"]) {
    for (const char* k : {"dice_average", "dice_ET", "dice_TC", "dice_WT"}) {
      ASSERT_TRUE(row.contains(k)) << k;
      EXPECT_TRUE(row[k].contains("mean") && row[k].contains("std") && row[k].contains("per_patient")) << k;
      EXPECT_EQ(row[k]["per_patient"].size(), 1u) << k;  // 5 cases → 4 training / 1 validation
      const double m = row[k]["mean"].get<double>();
      EXPECT_GE(m, 0.0);
      EXPECT_LE(m, 1.0);
    }
    EXPECT_TRUE(row.contains("p_value_vs_none"));
    EXPECT_TRUE(row.contains("architecture") && row.contains("edge_stream"));
  }
  EXPECT_EQ(t["rows"][0]["architecture"], "U-Net");
  EXPECT_EQ(t["rows"][0]["edge_stream"], "None");
  EXPECT_EQ(t["rows"][0]["paper"]["average"], "0.8305 ± 0.0035");
  EXPECT_EQ(t["rows"][5]["architecture"], "Seg-Net");
  EXPECT_EQ(t["rows"][5]["edge_stream"], "EG-CNN");
  EXPECT_EQ(t["rows"][5]["paper"]["average"], "0.8570 ± 0.0007");
  std::ifstream md(out + "/table.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("0.9180 ± 0.0028"), std::string::npos);  // Seg-Net + EG-CNN WT, beside ours
  const std::string run = out + "/runs/segresnet_eg-cnn/seed0";
  const nlohmann::json res = read_json(run + "/results.json");
  EXPECT_TRUE(res.at("complete").get<bool>());
  EXPECT_TRUE(res.at("dice").contains("average"));
  ASSERT_EQ(res.at("inference_memory").size(), 1u);
  EXPECT_GT(res["inference_memory"].begin().value().at("host_peak_mib").get<double>(), 0.0);
  bool overlay = false;
  for (const auto& e : fs::directory_iterator(run + "/overlays")) overlay |= e.path().extension() == ".png";
  EXPECT_TRUE(overlay);
  const nlohmann::json cfg = read_json(run + "/config.json");
  EXPECT_NE(cfg.dump().find("dual-task"), std::string::npos);
  // A repeated command reads every run back.
  AppRun again = run_app(args + " --no-figure");
  ASSERT_EQ(again.rc, 0) << again.output;
  EXPECT_NE(again.output.find("finished run with this configuration found, not redone"), std::string::npos);
  EXPECT_EQ(again.output.find("epoch 1/1"), std::string::npos) << again.output;
  fs::remove_all(out);
}

TEST(EgcnnTables, Table2FromAKitsFolderInTheOfficialLayout) {
  const std::string data = tmpdir("kits_data"), out = tmpdir("t2");
  write_kits_phantom(data, 4, 3, 24);
  AppRun r = run_app("--table 2 --data " + data + " --spacing 10 --backbones segresnet " + kTiny + " --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("kits19 layout, 4 cases"), std::string::npos) << r.output;
  const nlohmann::json t = read_json(out + "/table.json");
  ASSERT_EQ(t.at("rows").size(), 2u);
  for (const char* k : {"dice_kidney", "dice_tumour", "dice_composite"}) EXPECT_TRUE(t["rows"][1].contains(k)) << k;
  EXPECT_EQ(t["rows"][1]["paper"]["composite"], "0.9000 ± 0.0038");
  EXPECT_TRUE(fs::exists(out + "/figure3.png"));
  fs::remove_all(out);
  fs::remove_all(data);
}

TEST(EgcnnTables, Table1ReadsTheDecathlonNumberingFromDatasetJson) {
  const std::string data = tmpdir("msd_data"), out = tmpdir("msd");
  fs::create_directories(data + "/imagesTr");
  fs::create_directories(data + "/labelsTr");
  std::string training;
  for (int i = 0; i < 3; ++i) {
    const BratsCase c = make_brats_case(5, i, 24);
    Volume img = c.images[0];
    img.channels = 4;
    img.data.clear();
    for (const auto& m : c.images) img.data.insert(img.data.end(), m.data.begin(), m.data.end());
    Volume lab = c.labels;
    for (float& v : lab.data) v = v == 2 ? 1.f : v == 1 ? 2.f : v == 4 ? 3.f : 0.f;  // Decathlon: 1 ED, 2 NCR, 3 ET
    const std::string id = "BRATS_00" + std::to_string(i + 1);
    write_nifti(data + "/imagesTr/" + id + ".nii.gz", img);
    write_nifti(data + "/labelsTr/" + id + ".nii.gz", lab);
    training += std::string(i ? "," : "") + R"({"image": "./imagesTr/)" + id + R"(.nii.gz", "label": "./labelsTr/)" + id + R"(.nii.gz"})";
  }
  std::ofstream(data + "/dataset.json") << R"({"labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"}, "training": [)"
                                        << training << "]}";
  AppRun r = run_app("--table 1 --data " + data + " --spacing 0 --backbones unet3d --variants none " + kTiny + " --out " + out);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("msd layout"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("msd_task01 (labels 2 NCR/NET, 1 ED, 3 ET, mapped to BraTS's)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("figure 2: skipped"), std::string::npos) << r.output;
  EXPECT_TRUE(read_json(out + "/table.json")["rows"][0].contains("dice_WT"));
  fs::remove_all(out);
  fs::remove_all(data);
}

TEST(EgcnnTables, DescribeListsTheSixModelsWithExactCounts) {
  AppRun r = run_app("--describe --table 1");
  ASSERT_EQ(r.rc, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j.at("models").size(), 6u);
  const char* names[3] = {"unet3d", "vnet", "segresnet"};
  const int64_t widths[3] = {8, 4, 8};
  for (int e = 0; e < 2; ++e)
    for (int b = 0; b < 3; ++b) {
      const auto& m = j["models"][static_cast<size_t>(e * 3 + b)];
      EXPECT_EQ(m["name"], names[b]);
      const Net3d net({.backbone = names[b], .in_channels = 4, .classes = 4, .width = widths[b], .edge = e == 1,
                       .edge_width = 8});
      EXPECT_EQ(m["parameters"].get<int64_t>(), net.num_parameters()) << names[b];
    }
  AppRun p = run_app("--describe --table 1 --paper --backbones segresnet --variants none");
  const nlohmann::json q = nlohmann::json::parse(p.output);
  // SegResNet at Myronenko's 32 filters, 4 modalities, 4 classes: MONAI's rule (tests/models) at f = 32.
  EXPECT_EQ(q["models"][0]["parameters"].get<int64_t>(),
            Net3d({.backbone = "segresnet", .in_channels = 4, .classes = 4, .width = 32}).num_parameters());
}

TEST(EgcnnTables, BadOptionsFailClearly) {
  AppRun a = run_app("--table 3");
  EXPECT_NE(a.rc, 0);
  EXPECT_NE(a.output.find("--table: expected 1 (BraTS 2019) or 2 (KiTS 2019), got 3"), std::string::npos) << a.output;
  AppRun b = run_app("");
  EXPECT_NE(b.rc, 0);
  EXPECT_NE(b.output.find("try --help"), std::string::npos) << b.output;
  AppRun c = run_app("--table 1 --backbones unet3d,resnet");
  EXPECT_NE(c.rc, 0);
  EXPECT_NE(c.output.find("resnet"), std::string::npos) << c.output;
  AppRun d = run_app("--table 2 --data /nonexistent/kits");
  EXPECT_NE(d.rc, 0);
  EXPECT_NE(d.output.find("/nonexistent/kits"), std::string::npos) << d.output;
  AppRun e = run_app("--table 1 --variants none,gated");
  EXPECT_NE(e.rc, 0);
  EXPECT_NE(e.output.find("gated"), std::string::npos) << e.output;
  AppRun f = run_app("--table 1 --patch 24 --cases 3 --epochs 1 --steps-per-epoch 1 --backbones vnet --variants none");
  EXPECT_NE(f.rc, 0);
  EXPECT_NE(f.output.find("multiple of 16"), std::string::npos) << f.output;
}
