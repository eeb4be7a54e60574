// SegTHOR heart data for segthor_weak: patients from SegTHOR's official layout or from the generated phantom,
// turned into slice sets at the training size with weak seed labels and size bounds, split by patient.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/slice_data.h"
#include "data/volume.h"

namespace seg {

struct SegthorDataOptions {
  std::string data_dir;          // "" = phantom
  int phantom_patients = 10;
  double phantom_slice_mm = 2.5;  // phantom slice spacing (SegTHOR: 2–3.7 mm); coarser = fewer slices, faster
  int train_patients = 6;
  int64_t size = 64;             // training size S
  uint64_t seed = 0;
  std::optional<std::array<double, 2>> bounds;  // [a, b] at S×S; default: from the training ground truth
  int heart_label = 2;           // SegTHOR: 1 esophagus, 2 heart, 3 trachea, 4 aorta
};

struct SegthorSplit {
  std::string source;            // "phantom (seed 0, 10 patients)" or the folder
  std::vector<SliceSet> train, val;
  std::array<double, 2> bounds{};
  int64_t train_slices = 0;
};

// One patient's CT (HU) and label map → slices at S×S: volume min–max to [0, 1], bilinear image, nearest labels
// (through the engine's resize ops, PyTorch's align_corners=False semantics); organ mask = label == organ_label.
SliceSet make_slice_set(const std::string& id, const Volume& image, const Volume& labels, int organ_label, int64_t S);

// One uniformly random organ pixel per organ slice, a disc of `diameter` pixels around it, clipped to the organ
// (data/transforms/weak_labels.h on the slice grid; seeded so runs are reproducible).
void add_weak_seeds(SliceSet& s, uint64_t seed, double diameter = 4.0);

// Smallest and largest organ area (pixels) over the organ slices of the sets.
std::array<double, 2> organ_area_bounds(const std::vector<SliceSet>& sets);

// Per-slice bounds: [a, b] on organ slices, [0, 0] elsewhere.
void set_size_bounds(SliceSet& s, const std::array<double, 2>& bounds);

SegthorSplit load_segthor(const SegthorDataOptions& opt);

}  // namespace seg
