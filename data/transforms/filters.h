// Gaussian blur of a Volume, the smoothing step of augmentation (paper 5) and the blur degradation of paper 2.
// Key decision: it reproduces scipy.ndimage.gaussian_filter (mode 'reflect' = half-sample symmetric, truncate 4.0,
// radius int(4σ + 0.5), normalised sampled kernel), so results can be checked against scipy to rounding.
#pragma once
#include <array>

#include "data/volume.h"

namespace seg {

// Separable blur with sigma per axis in voxels (0 = that axis untouched); every channel independently.
Volume gaussian_blur(const Volume& v, const std::array<double, 3>& sigma_vox);
// In-plane (x, y) blur of every axial slice with the same sigma (2-D images and per-slice augmentation).
Volume gaussian_blur_2d(const Volume& v, double sigma_px);

}  // namespace seg
