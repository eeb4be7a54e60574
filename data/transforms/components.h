// Connected components of a binary 3-D mask, and the usual segmentation post-processing "keep the largest one".
// Key decision: union–find over the voxels in one raster pass (each voxel is joined to its already-visited
// neighbours), so the cost is linear in the volume with no recursion or queue that could blow up on a large organ;
// 26-connectivity by default (as scipy.ndimage.label with a full 3×3×3 structure), 6 on request.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace seg {

// Component id per voxel (0 = background, 1..n in raster order of first appearance) for mask (x fastest, dims nx, ny, nz).
// Returns n; labels receives nx·ny·nz ids.
int64_t label_components(const uint8_t* mask, const std::array<int64_t, 3>& dims, std::vector<int32_t>& labels,
                         int connectivity = 26);

// The mask with only its largest connected component left (ties: the first in raster order). Empty stays empty.
std::vector<uint8_t> keep_largest_component(const uint8_t* mask, const std::array<int64_t, 3>& dims, int connectivity = 26);

}  // namespace seg
