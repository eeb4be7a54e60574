// Region Dice (see regions.h).
#include "data/pipeline3d/regions.h"

#include <set>
#include <stdexcept>

#include "data/metrics/segmentation_metrics.h"

namespace seg {

RegionDice region_dice(const Volume& pred, const Volume& gt, const LabelScheme& scheme) {
  if (pred.dims != gt.dims)
    throw std::runtime_error("region_dice: prediction and ground truth grids differ (" + std::to_string(pred.voxels()) +
                             " vs " + std::to_string(gt.voxels()) + " voxels)");
  RegionDice r;
  const size_t n = static_cast<size_t>(gt.voxels());
  std::vector<uint8_t> a(n), b(n);
  for (const auto& reg : scheme.regions) {
    std::set<int> raw;
    for (int k : reg.classes) raw.insert(scheme.raw_values[static_cast<size_t>(k)]);
    for (size_t i = 0; i < n; ++i) {
      a[i] = raw.count(static_cast<int>(pred.data[i])) > 0;
      b[i] = raw.count(static_cast<int>(gt.data[i])) > 0;
    }
    r.dice.push_back(dice_of(a.data(), b.data(), static_cast<int64_t>(n)));
    r.summary += r.dice.back();
  }
  if (!r.dice.empty()) r.summary /= static_cast<double>(r.dice.size());
  return r;
}

RegionTable summarize_regions(const std::vector<RegionDice>& cases, const LabelScheme& scheme) {
  RegionTable t;
  for (const auto& reg : scheme.regions) t.names.push_back(reg.name);
  t.names.push_back(scheme.summary);
  t.per_case.assign(t.names.size(), {});
  for (const auto& c : cases) {
    for (size_t r = 0; r < c.dice.size(); ++r) t.per_case[r].push_back(c.dice[r]);
    t.per_case.back().push_back(c.summary);
  }
  for (const auto& v : t.per_case) t.summaries.push_back(summarize(v));
  return t;
}

}  // namespace seg
