// Results of an experiment: per-patient figures summarised as mean ± std, written as results.json (machine),
// results.md (the paper's table row beside ours) and curve.csv (one row per epoch). All files are written atomically.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg {

struct MetricSummary {
  double mean = 0, std = 0;             // over patients with a finite value
  int finite = 0;                       // patients with a finite value (an empty prediction has no distance)
  std::map<std::string, double> per_patient;
};

MetricSummary summarise(const std::map<std::string, double>& per_patient);
nlohmann::json to_json(const MetricSummary& s);  // {mean, std, per_patient} (non-finite values as null)
std::string mean_std(const MetricSummary& s, int digits = 2);  // "0.83 ± 0.20"

// Writes text to path via a temp file + rename.
void write_text_atomic(const std::string& path, const std::string& text);

struct EpochRow {
  int epoch = 0;
  double train_loss = 0, lr = 0, val_dice_volume = 0, val_dice_heart_slices = 0, val_hd_mm = 0, seconds = 0;
};
void write_curve_csv(const std::string& path, const std::vector<EpochRow>& rows);

}  // namespace seg
