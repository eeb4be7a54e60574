// Result summaries and files (see results.h).
#include "apps/common/results.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/serialize.h"

namespace seg {

MetricSummary summarise(const std::map<std::string, double>& per) {
  MetricSummary s;
  s.per_patient = per;
  double sum = 0, sq = 0;
  for (const auto& [k, v] : per)
    if (std::isfinite(v)) {
      sum += v;
      sq += v * v;
      ++s.finite;
    }
  if (s.finite > 0) {
    s.mean = sum / s.finite;
    s.std = s.finite > 1 ? std::sqrt(std::max(0.0, (sq - s.finite * s.mean * s.mean) / (s.finite - 1))) : 0.0;
  } else {
    s.mean = s.std = NAN;
  }
  return s;
}

nlohmann::json to_json(const MetricSummary& s) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json per = nlohmann::json::object();
  for (const auto& [k, v] : s.per_patient) per[k] = num(v);
  return {{"mean", num(s.mean)}, {"std", num(s.std)}, {"per_patient", per}, {"patients_with_value", s.finite}};
}

std::string mean_std(const MetricSummary& s, int digits) {
  if (!std::isfinite(s.mean)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f ± %.*f", digits, s.mean, digits, s.std);
  return b;
}

void write_text_atomic(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

void write_curve_csv(const std::string& path, const std::vector<EpochRow>& rows) {
  std::ostringstream o;
  o << "epoch,train_loss,lr,val_dice_volume,val_dice_heart_slices,val_hd_mm,seconds\n";
  for (const auto& r : rows)
    o << r.epoch << ',' << r.train_loss << ',' << r.lr << ',' << r.val_dice_volume << ',' << r.val_dice_heart_slices << ','
      << r.val_hd_mm << ',' << r.seconds << '\n';
  write_file_atomic(path, o.str());
}

}  // namespace seg
