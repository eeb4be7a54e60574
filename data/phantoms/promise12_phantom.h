// A PROMISE12-like prostate T2 MRI phantom (label 1 prostate), written as DIR/CaseXX.mhd + CaseXX_segmentation.mhd.
// Anatomy: pelvis with fat, obturator muscles, pelvic bones (dark cortex, bright marrow), bladder (bright urine)
// above-anterior, rectum behind (dark wall, air), prostate ellipsoid with a darker central gland and brighter
// peripheral zone; strong endorectal-coil bias field and Rician noise. Geometry: 320² at 0.6 mm, 3.6 mm slices.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "data/volume.h"

namespace seg {

std::pair<Volume, Volume> make_promise12_case(uint64_t seed, int index, int64_t nx = 0);
void write_promise12_phantom(const std::string& dir, int n, uint64_t seed, int64_t nx = 0);

}  // namespace seg
