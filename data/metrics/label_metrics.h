// Per-label metrics of two label maps on one grid, summaries over patients, and their JSON form.
// Key decisions: the spacing is the ground truth's (the grids must agree in dims, else an error); labels default to
// every non-zero label present in either map; +inf distances (one mask empty, see segmentation_metrics.h) are JSON
// null and are left out of summaries, which count them separately; std is the sample std (n − 1), as apps/ report.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "data/metrics/segmentation_metrics.h"
#include "data/volume.h"

namespace seg {

std::map<int, BinaryScores> label_scores(const Volume& pred, const Volume& gt, std::vector<int> labels = {});

struct Summary {
  double mean = 0, std = 0;
  int n = 0;         // finite values summarised
  int n_inf = 0;     // +inf values left out
};
Summary summarize(const std::vector<double>& values);

// {"labels": {"1": {"dice", "jaccard", "hd", "hd95", "assd"}, ...}} with inf → null.
nlohmann::json scores_json(const std::map<int, BinaryScores>& scores);

}  // namespace seg
