// Per-label metrics and summaries (see label_metrics.h).
#include "data/metrics/label_metrics.h"

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

namespace seg {

std::map<int, BinaryScores> label_scores(const Volume& pred, const Volume& gt, std::vector<int> labels) {
  if (pred.dims != gt.dims)
    throw std::invalid_argument("prediction dims " + std::to_string(pred.nx()) + "x" + std::to_string(pred.ny()) + "x" +
                                std::to_string(pred.nz()) + " differ from ground-truth dims " + std::to_string(gt.nx()) + "x" +
                                std::to_string(gt.ny()) + "x" + std::to_string(gt.nz()));
  const size_t n = static_cast<size_t>(gt.voxels());
  if (pred.data.size() < n || gt.data.size() < n) throw std::invalid_argument("label_scores: data shorter than dims");
  if (labels.empty()) {
    std::set<int> seen;
    for (size_t i = 0; i < n; ++i) {
      if (pred.data[i] != 0) seen.insert(static_cast<int>(std::lround(pred.data[i])));
      if (gt.data[i] != 0) seen.insert(static_cast<int>(std::lround(gt.data[i])));
    }
    labels.assign(seen.begin(), seen.end());
  }
  std::map<int, BinaryScores> out;
  std::vector<uint8_t> a(n), b(n);
  for (int l : labels) {
    for (size_t i = 0; i < n; ++i) {
      a[i] = std::lround(pred.data[i]) == l;
      b[i] = std::lround(gt.data[i]) == l;
    }
    out[l] = binary_scores(a.data(), b.data(), gt.dims, gt.spacing);
  }
  return out;
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  double sum = 0;
  for (double v : values) {
    if (std::isinf(v)) ++s.n_inf;
    else if (std::isfinite(v)) sum += v, ++s.n;
  }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  double sq = 0;
  for (double v : values)
    if (std::isfinite(v)) sq += (v - s.mean) * (v - s.mean);
  s.std = s.n > 1 ? std::sqrt(sq / (s.n - 1)) : 0.0;
  return s;
}

nlohmann::json scores_json(const std::map<int, BinaryScores>& scores) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json j;
  j["labels"] = nlohmann::json::object();
  for (const auto& [l, s] : scores)
    j["labels"][std::to_string(l)] = {{"dice", num(s.dice)}, {"jaccard", num(s.jaccard)}, {"hd", num(s.hd)}, {"hd95", num(s.hd95)}, {"assd", num(s.assd)}};
  return j;
}

}  // namespace seg
