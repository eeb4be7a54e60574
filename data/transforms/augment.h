// 2-D augmentation of an image and its label map with one transform (rotation, scaling, shift, exact quarter turns,
// mirroring, flipping, blur), applied to every axial slice: the online augmentation of papers 1 and 5.
// Key decisions: geometry goes through one inverse-mapped affine warp about the slice centre ((n−1)/2), bilinear for
// the image and nearest for labels, so image and labels stay aligned; pixels mapped from outside get `image_fill` /
// label 0. Blur touches the image only. Parameters are drawn from a seeded counter-based stream, so sample i of
// epoch e is the same on every machine.
#pragma once
#include <cstdint>
#include <utility>

#include "data/volume.h"

namespace seg {

struct AugmentParams {
  double angle_deg = 0;          // counter-clockwise in (x right, y down) pixel axes, about the slice centre
  double scale = 1;              // > 1 enlarges the content
  double shift_x = 0, shift_y = 0;  // pixels, content moved by (+x, +y)
  bool mirror = false;           // left–right (x reversed)
  bool flip = false;             // up–down (y reversed)
  double blur_sigma = 0;         // pixels; 0 = none
  int quarter_turns = 0;         // 0..3 exact 90° turns (index permutation, no interpolation; square slices only)
};

struct AugmentConfig {
  double p_rotate = 0.5, max_angle_deg = 30;
  double p_scale = 0.5, min_scale = 0.8, max_scale = 1.2;
  double p_shift = 0, max_shift_px = 0;
  double p_mirror = 0.5, p_flip = 0.5;
  double p_blur = 0, min_sigma = 0.5, max_sigma = 2;
  bool quarter_turns = false;    // draw 0..3 exact quarter turns uniformly (paper 1's rotations)
};
// No augmentation at all (every probability 0).
AugmentConfig no_augmentation();

// The parameters of draw `index` of stream `seed`.
AugmentParams draw_augment(const AugmentConfig& cfg, uint64_t seed, uint64_t index);

// Warps v's slices (every channel): out(p) = v(A⁻¹(p − c) + c), A = the rotation·scale, then the shift.
Volume warp_2d(const Volume& v, double angle_deg, double scale, double shift_x, double shift_y, bool nearest, float fill);

// (image, label) transformed consistently; label may be empty (data.empty()) when there is none. Order: the affine
// warp, then the quarter turns, the mirror, the flip, and last the blur (image only).
std::pair<Volume, Volume> augment_2d(const Volume& image, const Volume& label, const AugmentParams& p, float image_fill = 0.f);

}  // namespace seg
