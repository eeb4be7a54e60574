// Geometry changes of a Volume: in-plane resize of every axial slice (the training-size step of the 2-D apps) and
// resampling to a voxel spacing (3-D pipelines). Images are interpolated linearly, label maps by nearest neighbour.
// Key decisions:
//  * resize_2d follows torch.nn.functional.interpolate with align_corners=False (no antialias): bilinear samples
//    src = max(0, (dst + 0.5)·in/out − 0.5); nearest takes src = min(floor(dst·in/out), in − 1) (torch's legacy
//    'nearest'), both with the scale in float as torch computes it, so a slice resized here matches the engine's op.
//  * resample_to_spacing keeps the first voxel centre fixed and gives exactly the requested spacing:
//    out dims = floor((n − 1)·old/new) + 1, so every output centre lies inside the input (no extrapolation); nearest
//    rounds half up.
// Both update spacing and affine so the world position of each voxel centre is what was sampled.
#pragma once
#include <array>
#include <cstdint>

#include "data/volume.h"

namespace seg {

enum class Interp { Linear, Nearest };

// Every axial slice (and channel) resized to out_nx × out_ny; nz unchanged.
Volume resize_2d(const Volume& v, int64_t out_nx, int64_t out_ny, Interp interp);

// Resampled to `spacing` (mm) on all three axes (trilinear or nearest).
Volume resample_to_spacing(const Volume& v, const std::array<double, 3>& spacing, Interp interp);

}  // namespace seg
