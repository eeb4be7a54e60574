// A SegTHOR-like thoracic CT phantom: int16-valued HU volumes with SegTHOR's labels (1 esophagus, 2 heart,
// 3 trachea, 4 aorta), generated from (seed, patient).
// Anatomy in millimetres: body outline with a fat layer, lungs with vessel texture, spine and ribs, a heart with
// contrast-filled chambers in a myocardial wall and pericardial fat, ascending aorta / arch / descending aorta,
// trachea (air with a wall) splitting into the main bronchi, an esophagus behind it; Gaussian noise; per-patient
// variation in size, position, rotation and a smooth random deformation.
// Key decision: shapes are evaluated in physical coordinates, so any grid (SegTHOR's 512² at ~0.9 mm and 2.5 mm
// slices, or a coarse grid for a fast CPU run) samples the same patient; heart cross-sections stay within the paper's
// bounds [210, 7800] px at 256×256 (the heart is cut at its apex and base, as the diaphragm and great vessels do).
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "data/volume.h"

namespace seg {

struct SegthorPhantomOptions {
  int64_t nx = 512, ny = 512;   // in-plane grid
  int64_t nz = 0;               // 0: from the field of view and spacing_z
  double fov_xy = 0;            // mm; 0: drawn per patient in SegTHOR's range (0.9–1.2 mm × 512)
  double spacing_xy = 0;        // mm; > 0 overrides fov_xy with spacing_xy · nx
  double spacing_z = 2.5;       // mm
  double fov_z = 0;             // mm; 0: drawn per patient (chest: 300–360 mm)
  double noise_hu = 20;         // Gaussian noise sigma
};

// A grid suited to training at S×S: in-plane 2·S (at most 512), SegTHOR's 2.5 mm slices.
SegthorPhantomOptions segthor_phantom_options_for_size(int64_t S);

// (CT in HU, labels) for patient `patient` of the phantom data set `seed`, with spacing and affine set.
std::pair<Volume, Volume> make_segthor_patient(uint64_t seed, int patient, const SegthorPhantomOptions& opt = {});

// Writes patients 0..n-1 in SegTHOR's official layout: DIR/train/Patient_XX/{Patient_XX.nii.gz, GT.nii.gz}
// (XX from 01; CT as int16, GT as uint8), so the data-set loader reads phantoms and real data alike.
void write_segthor_phantom(const std::string& dir, int n_patients, uint64_t seed, const SegthorPhantomOptions& opt = {});

}  // namespace seg
