// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher's linear-time separable algorithm), with
// anisotropic voxel spacing, for metrics (Hausdorff, surface distances) and distance maps.
// Key decision: squared distances in double, one 1-D lower-envelope pass per axis; O(voxels) whatever the shape.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace seg {

// For every voxel, the Euclidean distance (mm) to the nearest voxel where `target` is non-zero
// (+inf everywhere when target is empty). Layout x-fastest: index = x + nx·(y + ny·z).
std::vector<double> distance_to(const std::vector<uint8_t>& target, const std::array<int64_t, 3>& dims,
                                const std::array<double, 3>& spacing);

// Surface voxels: foreground voxels with a face neighbour (6 in 3-D; 4 when nz = 1) outside the mask or outside the
// image (as scipy's binary_erosion with border 0, which MedPy uses).
std::vector<uint8_t> surface_of(const std::vector<uint8_t>& mask, const std::array<int64_t, 3>& dims);

}  // namespace seg
