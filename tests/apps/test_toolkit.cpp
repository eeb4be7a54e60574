// The experiment toolkit's own guarantees, on stand-in models and scores so each one is checked exactly:
//  * the trainer hands back the BEST epoch's weights (not the last), and its validation scores are measured on them;
//  * hooks and their variables survive a resume; the poly schedule gives lr·(1 − (e−1)/E)^0.9;
//  * a run folder is read back when finished, resumed when not, and refused when its configuration differs;
//  * the grid's t-test is wired to the per-case scores: its p-value equals scipy's on fixed scores
//    (reference computed once with Debian's /usr/bin/python3, scipy 1.10.1:
//     scipy.stats.ttest_rel([0.91,0.87,0.79,0.93,0.88,0.84], [0.89,0.86,0.80,0.90,0.85,0.80]).pvalue
//       = 0.04085940385929576
//     scipy.stats.ttest_rel([0.81,0.62,0.90,0.77], [0.80,0.70,0.86,0.71]).pvalue = 0.8240010058981629),
//    seeds are averaged per case before the test, and the tables and figures are written.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "apps/toolkit/grid.h"
#include "apps/toolkit/run.h"
#include "kernels/reduce.h"

using namespace seg;
namespace fs = std::filesystem;

namespace {

std::string tmpdir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("toolkit_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

// One parameter w; the loss is w itself, so Adam (lr 0.1) moves it by −0.1 per step.
class Scalar : public Module {
 public:
  Scalar() { w = register_parameter("w", Tensor::zeros({1})); }
  Tensor w;
};

// One step per epoch.
class OneStep : public Sampler {
 public:
  int64_t steps_per_epoch() const override { return 1; }
  void start_epoch(int) override {}
  Batch next(Device) override { return Batch{Tensor::zeros({1, 1, 1, 1}), Tensor::zeros({1, 1, 1}, DType::Int64), {}, {}, {}}; }
};

// "Dice" = −|w + 0.2|: best when w = −0.2, i.e. after epoch 2 of a run that keeps lowering w.
class PeakAtMinusPointTwo : public Evaluator {
 public:
  explicit PeakAtMinusPointTwo(const Scalar& m) : m_(m) {}
  Scores evaluate(const ForwardFn&, Device) const override {
    const double w = m_.w.to(Device::CPU).data<float>()[0];
    Scores s;
    s.structures = {"x"};
    s.cases = {"case1"};
    s.values["dice"]["x"]["case1"] = -std::abs(w + 0.2);
    return s;
  }
  size_t cases() const override { return 1; }

 private:
  const Scalar& m_;
};

TrainConfig scalar_config(const std::string& dir, int epochs) {
  TrainConfig c;
  c.epochs = epochs;
  c.optim.name = "adam";
  c.optim.lr = 0.1;
  c.schedule.kind = ScheduleSpec::Constant;
  c.out_dir = dir;
  return c;
}

LossFn scalar_loss() {
  return [](const Outputs& o, const Batch&) {
    Tensor l = sum_all(o.seg);
    return LossTerms{l, {{"w", l.item()}}};
  };
}

}  // namespace

TEST(Trainer, BestWeightsAreRestoredAndReportedScoresComeFromThem) {
  const std::string dir = tmpdir("best");
  Scalar m;
  OneStep data;
  PeakAtMinusPointTwo ev(m);
  const ForwardFn fwd = [&m](const Tensor&) { return Outputs{m.w, {}}; };
  const TrainResult r = train(m, fwd, scalar_loss(), data, ev, scalar_config(dir, 4));
  ASSERT_EQ(r.curve.size(), 4u);
  EXPECT_EQ(r.best_epoch, 2);
  // the last epoch left w at −0.4; the model handed back holds the best epoch's −0.2
  EXPECT_NEAR(r.curve.last("val_dice"), -0.2, 1e-4);
  EXPECT_NEAR(m.w.data<float>()[0], -0.2, 1e-4);
  EXPECT_NEAR(r.best.mean("dice"), 0.0, 1e-4);  // measured again, on the restored weights
  EXPECT_TRUE(fs::exists(dir + "/best.safetensors") && fs::exists(dir + "/last.safetensors"));
  fs::remove_all(dir);
}

TEST(Trainer, HookVariablesSurviveAResumeAndPolyScheduleIsExact) {
  const std::string dir = tmpdir("hooks");
  TrainVars vars{{"t", 1.0}};
  auto run = [&](int epochs) {
    Scalar m;
    OneStep data;
    PeakAtMinusPointTwo ev(m);
    const ForwardFn fwd = [&m](const Tensor&) { return Outputs{m.w, {}}; };
    TrainConfig c = scalar_config(dir, epochs);
    c.vars = &vars;
    c.hooks = {[](int, TrainVars& v, Optimizer&) { v["t"] *= 1.1; }};  // paper 5's log-barrier t
    return train(m, fwd, scalar_loss(), data, ev, c);
  };
  const TrainResult a = run(3);
  EXPECT_NEAR(vars.at("t"), std::pow(1.1, 3), 1e-12);
  vars["t"] = 123;  // a fresh process would start from the app's initial value: the checkpoint must win
  const TrainResult b = run(5);
  EXPECT_TRUE(b.resumed);
  EXPECT_NEAR(vars.at("t"), std::pow(1.1, 5), 1e-6);
  ASSERT_EQ(b.curve.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(b.curve.epoch(i), static_cast<int>(i) + 1);
  EXPECT_NEAR(b.curve.value(4, "var_t"), std::pow(1.1, 5), 1e-6);
  fs::remove_all(dir);

  Scalar m;
  OneStep data;
  PeakAtMinusPointTwo ev(m);
  const ForwardFn fwd = [&m](const Tensor&) { return Outputs{m.w, {}}; };
  TrainConfig c = scalar_config(dir, 4);
  c.schedule.kind = ScheduleSpec::Poly;
  const TrainResult p = train(m, fwd, scalar_loss(), data, ev, c);
  for (int e = 1; e <= 4; ++e) EXPECT_NEAR(p.curve.value(static_cast<size_t>(e - 1), "lr"), 0.1 * std::pow(1.0 - (e - 1) / 4.0, 0.9), 1e-9);
  fs::remove_all(dir);
}

TEST(RunFolder, FinishedRunIsReadBackAndAnotherConfigurationIsRefused) {
  const std::string dir = tmpdir("run");
  auto spec_for = [&](Scalar& m, OneStep& d, PeakAtMinusPointTwo& ev, int lr_tag) {
    RunSpec s;
    s.out_dir = dir;
    s.title = "scalar";
    s.config = {{"model", "scalar"}, {"lr_tag", lr_tag}, {"epochs", 3}};
    s.model = &m;
    s.forward = [&m](const Tensor&) { return Outputs{m.w, {}}; };
    s.loss = scalar_loss();
    s.train = &d;
    s.validation = &ev;
    s.test = &ev;
    s.train_cfg = scalar_config(dir, 3);
    s.report_metrics = {"dice"};
    return s;
  };
  Scalar m1;
  OneStep d1;
  PeakAtMinusPointTwo e1(m1);
  const RunResult a = run_experiment(spec_for(m1, d1, e1, 1));
  EXPECT_FALSE(a.reused);
  for (const char* f : {"config.json", "results.json", "results.md", "curve.csv", "curve.json", "curve.svg", "curve.png"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  EXPECT_TRUE(a.results.at("complete").get<bool>());
  ASSERT_TRUE(a.test.has_value());
  EXPECT_NEAR(a.test->mean("dice"), 0.0, 1e-4);  // the test split is evaluated on the restored best weights
  Scalar m2;
  OneStep d2;
  PeakAtMinusPointTwo e2(m2);
  const RunResult b = run_experiment(spec_for(m2, d2, e2, 1));
  EXPECT_TRUE(b.reused);
  EXPECT_EQ(b.results.at("best_epoch"), 2);
  EXPECT_NEAR(b.validation.mean("dice"), a.validation.mean("dice"), 1e-12);
  Scalar m3;
  OneStep d3;
  PeakAtMinusPointTwo e3(m3);
  try {
    run_experiment(spec_for(m3, d3, e3, 2));
    ADD_FAILURE() << "a folder holding another configuration must be refused";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("lr_tag"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

namespace {
// A finished run with fixed per-case Dice and HD and a short validation curve.
RunResult fake_run(const std::string& dir, const std::vector<double>& dice, double curve_offset) {
  RunResult r;
  r.dir = dir;
  r.validation.structures = {"organ"};
  for (size_t i = 0; i < dice.size(); ++i) {
    const std::string c = std::string(1, 'P') + std::to_string(i);  // (not "P" + ...: GCC 12 warns -Wrestrict falsely)
    r.validation.cases.push_back(c);
    r.validation.values["dice"]["organ"][c] = dice[i];
    r.validation.values["hd_mm"]["organ"][c] = 10.0 * (1.0 - dice[i]);
  }
  for (int e = 1; e <= 3; ++e) r.curve.add(e, {{"val_dice_loss", curve_offset + 0.1 * (3 - e)}});
  return r;
}
}  // namespace

TEST(Grid, PairedTTestMatchesScipyOnFixedScoresAndSeedsAverageFirst) {
  const std::string out = tmpdir("grid");
  const std::vector<double> variant{0.91, 0.87, 0.79, 0.93, 0.88, 0.84}, base{0.89, 0.86, 0.80, 0.90, 0.85, 0.80};
  GridSpec g;
  g.table = "T";
  g.title = "test grid";
  g.out_dir = out;
  g.seeds = {0, 1};
  g.p_value_key = "p_value_vs_none";
  g.columns = {{"dice_volume", "dice", "", "Dice", 2}, {"hd_mm", "hd_mm", "organ", "HD", 2}};
  g.paper_columns = {"dice"};
  GridRow b;
  b.key = "none";
  b.labels = {{"variant", "none"}};
  b.paper = {{"dice", "0.86 ± 0.24"}};
  b.run = [&](uint64_t, const std::string& dir) { return fake_run(dir, base, 0.2); };
  GridRow v;
  v.key = "all";
  v.labels = {{"variant", "all"}};
  v.baseline = "none";
  // the two seeds straddle the fixed scores by ±0.01: their per-case average is exactly `variant`
  v.run = [&](uint64_t seed, const std::string& dir) {
    std::vector<double> d = variant;
    for (double& x : d) x += seed == 0 ? -0.01 : 0.01;
    return fake_run(dir, d, 0.1);
  };
  g.rows = {b, v};
  g.figures = {{"figure", "validation Dice loss", "Dice loss", "val_dice_loss", {"none", "all"}, 0, 1}};
  const nlohmann::json t = run_grid(g);
  ASSERT_EQ(t.at("rows").size(), 2u);
  const auto& r0 = t["rows"][0];
  const auto& r1 = t["rows"][1];
  EXPECT_TRUE(r0.at("p_value_vs_none").is_null());  // the baseline is not tested against itself
  EXPECT_NEAR(r1.at("p_value_vs_none").get<double>(), 0.04085940385929576, 1e-9);
  EXPECT_NEAR(r1.at("dice_volume").at("p_value").get<double>(), 0.04085940385929576, 1e-9);
  // HD = 10·(1 − Dice) per case: the same differences scaled, so the same p-value
  EXPECT_NEAR(r1.at("hd_mm").at("p_value").get<double>(), 0.04085940385929576, 1e-9);
  double mean = 0;
  for (double x : variant) mean += x / 6;
  EXPECT_NEAR(r1.at("dice_volume").at("mean").get<double>(), mean, 1e-12);
  EXPECT_NEAR(r1.at("dice_volume").at("per_patient").at("P2").get<double>(), 0.79, 1e-12);
  EXPECT_NEAR(r1.at("dice_volume").at("std_over_seeds").get<double>(), 0.01 * std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(r1.at("dice_volume").at("per_seed").at("1").at("per_patient").at("P0").get<double>(), 0.92, 1e-12);
  EXPECT_EQ(r0.at("paper").at("dice"), "0.86 ± 0.24");
  for (const char* f : {"table.json", "table.md", "table.csv", "figure.svg", "figure.png", "figure.csv"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  std::ifstream md(out + "/table.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("0.86 ± 0.24"), std::string::npos);
  EXPECT_NE(text.find("0.041"), std::string::npos) << text;
  fs::remove_all(out);
}

TEST(Grid, PValueOfFourPatientsAndTooFewPairs) {
  const std::map<std::string, double> a{{"a", 0.81}, {"b", 0.62}, {"c", 0.90}, {"d", 0.77}},
      b{{"a", 0.80}, {"b", 0.70}, {"c", 0.86}, {"d", 0.71}};
  EXPECT_NEAR(paired_p_value(a, b), 0.8240010058981629, 1e-9);
  // only cases finite in both are paired: one pair is too few
  const std::map<std::string, double> c{{"a", 0.5}, {"b", NAN}};
  EXPECT_TRUE(std::isnan(paired_p_value(c, b)));
}
