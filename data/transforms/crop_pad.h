// Index-exact geometry: crop/pad to a box, centre crop/pad, integer shifts (paper 2's shifted inputs) and flips.
// Key decision: nothing is interpolated; one routine copies the overlap of a box with the volume and fills the rest,
// and the affine's translation is moved so every kept voxel keeps its world position (flips negate the axis column).
#pragma once
#include <array>
#include <cstdint>

#include "data/volume.h"

namespace seg {

// The box [start, start + dims) of v (start may be negative and the box may exceed v: padded with `fill`).
Volume crop_or_pad(const Volume& v, const std::array<int64_t, 3>& start, const std::array<int64_t, 3>& dims, float fill = 0.f);
// Crop/pad symmetrically around the centre to `dims` (an odd excess is taken from the high side, as nnU-Net pads).
Volume center_crop_or_pad(const Volume& v, const std::array<int64_t, 3>& dims, float fill = 0.f);
// Content moved by (dx, dy, dz) voxels: out(x) = v(x − d); vacated voxels get `fill`. Grid and affine unchanged.
Volume shift_integer(const Volume& v, int64_t dx, int64_t dy, int64_t dz = 0, float fill = 0.f);
// Reverses axis 0 (x: mirror left–right), 1 (y: flip up–down) or 2 (z).
Volume flip(const Volume& v, int axis);

}  // namespace seg
