// Weak supervision of paper 1 from a full label map: seed discs and size bounds.
// Key decisions (the authors' code, docs/reference_code.md): on every axial slice that contains the label, one
// foreground pixel is drawn uniformly (seeded; the authors' seeds were not reproducible) and the pixels within
// diameter/2 of it (Euclidean, in pixels: 13 pixels for diameter 4) that are also foreground become the seed; slices
// without the label get no seed. Size bounds are the smallest and largest foreground area over positive slices,
// counted after resizing each slice to S×S with nearest labels (the paper's 210/7800 px for SegTHOR's heart at
// 256×256).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "data/volume.h"

namespace seg {

// 0/1 seed map on v's grid (uint8).
Volume weak_seed_labels(const Volume& labels, int label, uint64_t seed, double diameter = 4.0);

// [min, max] foreground area (pixels at size×size; size 0 = native grid) over the positive slices of all volumes;
// {0, 0} when no slice contains the label.
std::array<double, 2> size_bounds(const std::vector<const Volume*>& label_maps, int label, int64_t size = 0);

// Foreground area of each axial slice (pixels at size×size; 0 = native grid).
std::vector<int64_t> slice_areas(const Volume& labels, int label, int64_t size = 0);

}  // namespace seg
