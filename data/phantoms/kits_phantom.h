// A KiTS-2019-like abdominal CT phantom: int16 HU with KiTS's labels (1 kidney, 2 tumour), written as
// DIR/case_XXXXX/{imaging,segmentation}.nii.gz.
// Anatomy: body with fat, liver (right), spleen (left), spine, aorta and vena cava, two kidneys (enhancing cortex,
// medulla, renal pelvis) and an exophytic tumour on one of them; Gaussian noise. Key decision: volumes are stored
// x-fastest with a RAS affine like every other Volume here (the official KiTS19 files put slices on the first axis;
// the loader reads either through the affine).
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "data/volume.h"

namespace seg {

std::pair<Volume, Volume> make_kits_case(uint64_t seed, int index, int64_t nx = 0);
void write_kits_phantom(const std::string& dir, int n, uint64_t seed, int64_t nx = 0);

}  // namespace seg
