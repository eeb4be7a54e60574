// Overlap and distance metrics of binary segmentations with voxel spacing (mm).
// Definitions (documented because papers and libraries differ):
//   Dice = 2|A∩B| / (|A|+|B|); Jaccard = |A∩B| / |A∪B|
//   HD   = symmetric Hausdorff distance between the two foreground voxel sets: max(max_a d(a,B), max_b d(b,A)),
//          exact, through the Euclidean distance transform (not scipy's directed_hausdorff on mask rows, the bug of
//          the paper's code).
//   HD95 = 95th percentile (linear interpolation, numpy's default) of the pooled surface distances S_A→S_B and
//          S_B→S_A, surfaces as in distance_transform.h — MedPy's hd95.
//   ASSD = mean of the two directed mean surface distances (MedPy's assd).
// Empty masks: both empty → Dice 1, Jaccard 1, distances 0; one empty → Dice 0, Jaccard 0, distances +inf
// (reported as null in JSON by the tools) — never silently 0.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace seg {

struct BinaryScores {
  double dice = 0, jaccard = 0, hd = 0, hd95 = 0, assd = 0;
};

double dice_of(const uint8_t* pred, const uint8_t* gt, int64_t n);
BinaryScores binary_scores(const uint8_t* pred, const uint8_t* gt, const std::array<int64_t, 3>& dims,
                           const std::array<double, 3>& spacing);

// Paired two-sided Student t-test p-value of a − b (paper 1 compares each model's per-patient scores with the
// baseline's). Needs at least two pairs; identical samples give p = 1.
double paired_t_test_p(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace seg
