// Paper 1's data: SegTHOR's heart (label 2; Table I) and ACDC's left-ventricular cavity (label 3; Table II), from the
// official layouts or from the generated phantoms, as toolkit slice sets (two classes: background, organ) at S×S with
// weak seeds and per-slice size bounds, split by patient through data/datasets (one splitter, the same split on every
// platform).
// Key decisions: SegTHOR is split by counts (the paper's 6 training / 4 validation patients; further patients in a
// --data folder are left out and listed), ACDC by fractions (75 % / 25 % of the patients, both annotated frames of a
// patient on the same side; each frame is an evaluation case). Volumes are min–max normalised to [0, 1] (the size-loss
// code's rule). Weak seeds are drawn once from the data seed, so every training seed of a grid sees the same weak labels.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "apps/toolkit/slice_data.h"

namespace seg {

enum class Paper1Dataset { SegTHOR, ACDC };
Paper1Dataset parse_paper1_dataset(const std::string& s);  // segthor | acdc
const char* paper1_dataset_name(Paper1Dataset d);
const char* paper1_organ(Paper1Dataset d);  // "heart" | "LV"
int paper1_source_label(Paper1Dataset d);   // 2 | 3
std::array<double, 2> paper1_bounds_256(Paper1Dataset d);  // the paper's [a, b] at 256²: [210, 7800] | [97.9, 1722]

struct Paper1DataOptions {
  Paper1Dataset dataset = Paper1Dataset::SegTHOR;
  std::string data_dir;             // "" = phantom
  int phantom_patients = 10;
  double phantom_slice_mm = 2.5;    // SegTHOR phantom slice spacing
  int train_patients = 6, val_patients = 4;  // SegTHOR split counts (0 val = every other patient)
  double train_fraction = 0.75;     // ACDC split
  int64_t size = 64;
  uint64_t seed = 0;                // phantom, split and weak seeds
  std::optional<std::array<double, 2>> bounds;  // at S×S; default: from the training ground truth
};

struct Paper1Data {
  std::string source;               // "phantom (...)" or the folder
  std::vector<SliceSet> train, val;
  std::vector<std::string> left_out;  // patients of the folder in neither split
  std::array<double, 2> bounds{};
  std::string bounds_source;        // "training ground truth" | "given"
  int64_t train_slices = 0;
};

Paper1Data load_paper1_data(const Paper1DataOptions& opt);

}  // namespace seg
