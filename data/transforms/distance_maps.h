// Auxiliary targets of paper 4 built from a mask: distance maps D1/D2/D3 and contour maps.
// Definitions (paper 4, §2.2), with the boundary = mask voxels with a background face neighbour (4 in 2-D / per
// slice, 6 in 3-D; the image border counts as background, as in the metrics) and exact EDT distances (mm, with the
// volume's spacing; pixels when spacing is 1):
//   D1: outside the mask the distance to the nearest mask voxel, 0 inside;
//   D2: everywhere the distance to the nearest boundary voxel (0 on the boundary, positive inside and outside);
//   D3: D2 signed, negative inside the mask (0 on the boundary).
// An empty mask has no boundary: every variant is 0 there (documented rather than +inf, which a loss cannot use).
// normalise = true divides by the largest |value| of the map (per slice when per_slice), so D1/D2 lie in [0, 1] and
// D3 in [−1, 1], as regressed through a sigmoid (D3 then maps to (D3 + 1)/2 in the app).
// Contour map: boundary pixels of each slice dilated by a disk of radius r pixels (Euclidean ≤ r; paper: r = 5).
#pragma once
#include <string>

#include "data/volume.h"

namespace seg {

enum class DistanceVariant { D1, D2, D3 };

// mask: voxels equal to `label` (label < 0: any non-zero voxel). per_slice: 2-D maps of each axial slice.
Volume distance_map(const Volume& mask, DistanceVariant variant, int label = -1, bool per_slice = true, bool normalise = false);

// 0/1 contour map (uint8), per axial slice.
Volume contour_map(const Volume& mask, double radius_px = 5.0, int label = -1);

// Parses "D1", "D2", "D3" (case-insensitive); throws otherwise.
DistanceVariant parse_distance_variant(const std::string& s);

}  // namespace seg
