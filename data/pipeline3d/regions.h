// Region Dice of the 3-D pipeline's evaluation: BraTS's nested tumour regions (ET, TC, WT and their average) and
// KiTS's kidney (kidney ∪ tumour), tumour and their mean ("composite"), per case on the original grid, from raw label
// maps; and mean ± std over cases.
// Key decision: a region empty in both the prediction and the ground truth scores 1 (the BraTS convention, and
// segmentation_metrics.h's), empty in one of them 0; the summary is the mean over the scheme's regions.
#pragma once
#include <string>
#include <vector>

#include "data/metrics/label_metrics.h"
#include "data/pipeline3d/cases3d.h"

namespace seg {

struct RegionDice {
  std::vector<double> dice;  // per region of the scheme, in its order
  double summary = 0;        // their mean ("average" / "composite")
};
// pred and gt: raw label values on one grid (same dims).
RegionDice region_dice(const Volume& pred, const Volume& gt, const LabelScheme& scheme);

// Per region (and the summary last): mean ± std over cases.
struct RegionTable {
  std::vector<std::string> names;              // regions then the summary's name
  std::vector<std::vector<double>> per_case;   // [name][case]
  std::vector<Summary> summaries;              // [name]
};
RegionTable summarize_regions(const std::vector<RegionDice>& cases, const LabelScheme& scheme);

}  // namespace seg
