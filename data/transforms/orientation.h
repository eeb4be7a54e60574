// Orientation of a volume from its affine, as axis codes (nibabel's aff2axcodes), and exact reorientation by axis
// permutation and flips (no resampling), so a model trained on volumes stored one way is applied to volumes stored
// another way.
// Convention (nibabel's, in RAS+ world coordinates, which Volume::affine uses): the code of voxel axis i is the world
// axis its direction vector is closest to, with the letter of the direction it points to: R/L (world x + / −),
// A/P (y + / −), S/I (z + / −). A volume stored as "RAS" has its index i growing towards the patient's right.
// Key decisions: codes are computed from the affine's columns (an oblique affine gets the closest axes, each world
// axis used once, the strongest components first); reorienting keeps the world geometry (the affine is updated so
// every voxel keeps its position in mm), so reorient_back(reorient(v)) is v exactly.
#pragma once
#include <array>
#include <string>

#include "data/volume.h"

namespace seg {

// "RAS", "LPS", "PIR", ... (3 letters, one of R/L, A/P, S/I each).
std::string axis_codes(const Volume& v);
std::string axis_codes(const std::array<std::array<double, 4>, 3>& affine);
bool valid_axis_codes(const std::string& codes);

// New voxel axis j is old axis perm[j], reversed when flip[j].
struct Reorientation {
  std::array<int, 3> perm{0, 1, 2};
  std::array<bool, 3> flip{false, false, false};
  bool identity() const { return perm == std::array<int, 3>{0, 1, 2} && !flip[0] && !flip[1] && !flip[2]; }
  std::string describe() const;  // "identity" or e.g. "axes (2, 0, 1), flip axis 0"
};

// The reorientation that takes a volume stored as `from` to `to` (errors name invalid codes).
Reorientation reorientation(const std::string& from, const std::string& to);
// Applies it to data (every channel), dims, spacing and affine.
Volume reorient(const Volume& v, const Reorientation& r);
// The inverse: a volume produced in the reoriented grid back onto the original grid.
Volume reorient_back(const Volume& v, const Reorientation& r);

}  // namespace seg
