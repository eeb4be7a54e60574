// Run folders (see run.h).
#include "apps/toolkit/run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/device.h"
#include "engine/serialize.h"
#include "kernels/blas.h"
#include "kernels/conv_onednn.h"

namespace seg {

namespace fs = std::filesystem;

std::string first_config_difference(const nlohmann::json& a, const nlohmann::json& b, const std::vector<std::string>& ignore) {
  auto skip = [&](const std::string& k) { return std::find(ignore.begin(), ignore.end(), k) != ignore.end(); };
  for (const auto& [k, v] : a.items())
    if (!skip(k) && (!b.contains(k) || b[k] != v)) return k;
  for (const auto& [k, v] : b.items())
    if (!skip(k) && !a.contains(k)) return k;
  return "";
}

std::optional<RunResult> load_finished_run(const std::string& dir) {
  const std::string p = dir + "/results.json";
  if (!fs::exists(p)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text(p));
  } catch (const std::exception& e) {
    throw std::runtime_error(p + ": unreadable results (" + e.what() + "); delete the run folder to redo it");
  }
  if (!j.value("complete", false)) return std::nullopt;
  RunResult r;
  r.dir = dir;
  r.results = j;
  r.curve = Curve::read(dir);
  r.validation = Scores::from_json(j.at("validation"));
  if (j.contains("test") && !j["test"].is_null()) r.test = Scores::from_json(j["test"]);
  r.reused = true;
  return r;
}

namespace {

std::string cell(const std::map<std::string, double>& per, int digits) { return mean_std(summarise(per), digits); }

void scores_md(std::ostringstream& md, const std::string& split, const Scores& s, const std::vector<std::string>& metrics) {
  md << "\n## " << split << " (" << s.cases.size() << " cases; mean ± std over cases)\n\n| structure |";
  std::vector<std::string> ms;
  for (const auto& m : metrics)
    if (s.has(m)) ms.push_back(m);
  for (const auto& m : ms) md << ' ' << m << " |";
  md << "\n|---|";
  for (size_t i = 0; i < ms.size(); ++i) md << "---|";
  md << '\n';
  for (const auto& st : s.structures) {
    md << "| " << st << " |";
    for (const auto& m : ms) md << ' ' << cell(s.values.at(m).at(st), m.find("_mm") != std::string::npos ? 2 : 3) << " |";
    md << '\n';
  }
  md << "\nPer case:\n\n| case | structure |";
  for (const auto& m : ms) md << ' ' << m << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < ms.size(); ++i) md << "---|";
  md << '\n';
  char b[48];
  for (const auto& c : s.cases)
    for (const auto& st : s.structures) {
      md << "| " << c << " | " << st << " |";
      for (const auto& m : ms) {
        const double v = s.values.at(m).at(st).at(c);
        if (std::isfinite(v)) std::snprintf(b, sizeof b, "%.3f", v);
        else std::snprintf(b, sizeof b, "n/a");
        md << ' ' << b << " |";
      }
      md << '\n';
    }
}

}  // namespace

RunResult run_experiment(const RunSpec& spec) {
  SEG_CHECK(spec.model && spec.train && spec.validation && spec.forward && spec.loss,
            "run_experiment: model, forward, loss, training sampler and validation evaluator are required");
  SEG_CHECK(spec.config.is_object(), "run_experiment: the configuration must be a JSON object");
  const std::string& dir = spec.out_dir;
  fs::create_directories(dir);
  std::vector<std::string> ignore = spec.volatile_keys;
  if (auto done = load_finished_run(dir)) {
    if (first_config_difference(done->results.at("config"), spec.config, ignore).empty()) {
      std::printf("%s: finished run with this configuration found, not redone\n", dir.c_str());
      return *done;
    }
  }
  ignore.insert(ignore.end(), spec.resumable_keys.begin(), spec.resumable_keys.end());
  const std::string cfg_path = dir + "/config.json";
  if (fs::exists(cfg_path)) {
    const auto old = nlohmann::json::parse(read_text(cfg_path));
    const std::string k = first_config_difference(old, spec.config, ignore);
    SEG_CHECK(k.empty(), dir, " holds a run with another configuration (", k, ": ",
              old.contains(k) ? old[k].dump() : "absent", " there, ", spec.config.contains(k) ? spec.config[k].dump() : "absent",
              " now): choose another output folder or delete it");
  } else if (fs::exists(dir + "/last.safetensors")) {
    SEG_CHECK(false, dir, " holds a checkpoint but no config.json: not a run folder of this toolkit; choose another "
                          "output folder or delete it");
  }
  if (fs::exists(dir + "/results.json")) fs::remove(dir + "/results.json");  // continued: the old results no longer hold
  write_text_atomic(cfg_path, spec.config.dump(2) + "\n");

  TrainConfig tc = spec.train_cfg;
  tc.out_dir = dir;
  RunResult r;
  r.dir = dir;
  r.train = train(*spec.model, spec.forward, spec.loss, *spec.train, *spec.validation, tc);
  r.curve = r.train.curve;
  r.validation = r.train.best;
  if (spec.test) r.test = spec.test->evaluate(spec.forward, tc.device);

  nlohmann::json j;
  j["title"] = spec.title;
  j["config"] = spec.config;
  j["runtime"] = {{"device", device_name(tc.device)}, {"threads", max_threads()},
                  {"cpu_convolutions", onednn::enabled() ? "onednn" : "im2col"}};
  j["protocol"] = {{"optimiser", tc.optim.describe()}, {"schedule", tc.schedule.describe()},
                   {"select_metric", tc.select_metric}};
  j["best_epoch"] = r.train.best_epoch;
  j["epochs_run"] = r.train.epochs_run;
  j["epochs"] = r.train.epochs_run;  // (the key results.json had before the toolkit)
  j["stopped_by_time_budget"] = r.train.stopped_by_budget;
  j["time_s"] = r.train.seconds;
  j["validation"] = r.validation.to_json();
  j["test"] = r.test ? r.test->to_json() : nlohmann::json(nullptr);

  std::ostringstream md;
  md << "# " << spec.title << "\n\nBest epoch " << r.train.best_epoch << " of " << r.train.epochs_run << " ("
     << static_cast<int>(r.train.seconds) << " s" << (r.train.stopped_by_budget ? ", stopped by the time budget" : "")
     << "); " << tc.optim.describe() << "; schedule: " << tc.schedule.describe()
     << ". Reported scores are measured on the restored best weights.\n";
  if (spec.report) spec.report(r, j, md);
  scores_md(md, "Validation", r.validation, spec.report_metrics);
  if (r.test) scores_md(md, "Test", *r.test, spec.report_metrics);
  md << "\nMetrics: Dice and Jaccard per case on the whole volume; hd_mm = symmetric Hausdorff distance between the "
        "voxel sets, hd95_mm = 95th percentile of the symmetric surface distances, assd_mm = average symmetric surface "
        "distance, all in mm on the evaluation grid (data/metrics/segmentation_metrics.h); n/a = one mask empty.\n";

  std::vector<LineSeries> cs{{"validation Dice", r.curve.epochs(), r.curve.column("val_dice")}};
  if (!r.curve.empty() && std::find(r.curve.columns().begin(), r.curve.columns().end(), "val_dice_loss") != r.curve.columns().end())
    cs.push_back({"validation Dice loss (1 − soft Dice)", r.curve.epochs(), r.curve.column("val_dice_loss")});
  write_line_plot(dir + "/curve", spec.title, "epoch", "Dice", cs, 0.0, 1.0);
  if (spec.overlays) spec.overlays(dir + "/overlays");
  write_text_atomic(dir + "/results.md", md.str());
  j["complete"] = true;
  write_text_atomic(dir + "/results.json", j.dump(2) + "\n");
  r.results = j;
  return r;
}

}  // namespace seg
