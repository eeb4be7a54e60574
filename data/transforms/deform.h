// Pseudo-patients from one real scan: a random 3-D deformation (anisotropic scaling, in-plane rotation, translation and
// a smooth elastic field) plus a small intensity change and noise, resampled onto a grid of the requested spacing.
// Used to turn one real labelled chest CT (`segtool pseudo`, docs/segthor_real_ct.md) into a SegTHOR-like folder of
// "patients" whose anatomy varies, so real-CT training runs (ours and PyTorch's on the same files) can be compared.
// Key decisions:
//  * the transform is defined backwards (output voxel → source position in mm about the volume centre), so every
//    output voxel is sampled exactly once: image trilinear, labels nearest; positions outside the source clamp to
//    its border (a CT crop continues its edge tissue rather than growing an artificial air frame);
//  * the elastic field is a coarse grid of N(0, σ²) control-point displacements blended with smoothstep weights
//    (C¹, no overshoot), so organs bend without folding as long as σ is well below the grid spacing;
//  * everything is drawn from (seed, index) with a counter-based hash: the same folder on every machine.
#pragma once
#include <array>
#include <cstdint>
#include <utility>

#include "data/volume.h"

namespace seg {

struct DeformConfig {
  double scale = 0.10;             // in-plane scale factor ~ U[1 − s, 1 + s] (x and y drawn separately)
  double scale_z = 0.10;           // through-plane scale factor ~ U[1 − s, 1 + s]
  double rotate_deg = 10;          // in-plane rotation ~ U[−r, r]
  double shift_mm = 8;             // translation ~ U[−t, t] per axis
  double elastic_mm = 5;           // σ of the control-point displacements
  double elastic_grid_mm = 48;     // control-point spacing
  double intensity_scale = 0.05;   // image·U[1 − a, 1 + a] …
  double intensity_shift = 20;     // … + U[−b, b] (HU for CT) …
  double noise_sd = 10;            // … + N(0, σ²) per voxel
};

struct DeformParams {
  double scale_x = 1, scale_y = 1, scale_z = 1, angle_deg = 0;
  std::array<double, 3> shift_mm{0, 0, 0};
  double intensity_a = 1, intensity_b = 0;
  uint64_t stream = 0;  // seeds the elastic field and the noise
};

DeformParams draw_deform(const DeformConfig& cfg, uint64_t seed, uint64_t index);

// The deformed image and label map on a grid covering the source's extent at `spacing` mm (≤ 0 on an axis: keep
// the source's). Image voxels are rounded when the source datatype is an integer type; labels stay label ids.
std::pair<Volume, Volume> deform_case(const Volume& image, const Volume& labels, const DeformConfig& cfg,
                                      const DeformParams& p, std::array<double, 3> spacing);

}  // namespace seg
