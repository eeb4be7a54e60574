// One run of an experiment in its own folder: config.json, then training (trainer.h), the best weights restored,
// validation and (optionally) test evaluation, results.json / results.md, curve.csv / .json / .svg / .png, overlays,
// best.safetensors and last.safetensors.
// Key decisions: the folder is the unit of resumption — a folder holding a finished run with the same configuration is
// read back, not redone (a repeated grid command skips it); a folder holding an unfinished run is resumed from
// last.safetensors (after kill -9 too); a folder holding a different configuration is an error naming the first key
// that differs, never silently mixed. results.json says "complete": true only once everything is written.
#pragma once
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/toolkit/trainer.h"

namespace seg {

struct RunSpec {
  std::string out_dir;
  std::string title;                  // first line of results.md
  nlohmann::json config;              // everything that defines the run (a JSON object)
  // config keys that do not define the run (the device it ran on ...): ignored when a folder is compared
  std::vector<std::string> volatile_keys{"device", "out", "resume"};
  // config keys a finished or interrupted run may be continued under (more epochs, a longer budget)
  std::vector<std::string> resumable_keys{"epochs", "max_minutes"};
  Module* model = nullptr;
  ForwardFn forward;
  LossFn loss;
  Sampler* train = nullptr;
  const Evaluator* validation = nullptr;
  const Evaluator* test = nullptr;    // optional: evaluated once, on the restored best weights
  TrainConfig train_cfg;              // out_dir is set to the run folder
  std::vector<std::string> report_metrics{"dice", "jaccard", "hd_mm", "hd95_mm", "assd_mm"};
  std::function<void(const std::string& dir)> overlays;  // drawn with the restored best weights
  // the app's own additions to results.json and results.md (e.g. the paper's row beside ours)
  std::function<void(const struct RunResult& r, nlohmann::json& results, std::ostringstream& md)> report;
};

struct RunResult {
  std::string dir;
  nlohmann::json results;             // results.json as written
  Curve curve;
  Scores validation;
  std::optional<Scores> test;
  TrainResult train;                  // (empty curve/scores when reused)
  bool reused = false;                // a finished run was read back
};

RunResult run_experiment(const RunSpec& spec);

// The finished run in dir (results.json with "complete": true), if any.
std::optional<RunResult> load_finished_run(const std::string& dir);

// Compares two run configurations, ignoring `ignore`; returns the first differing key ("" when equal).
std::string first_config_difference(const nlohmann::json& a, const nlohmann::json& b, const std::vector<std::string>& ignore);

}  // namespace seg
