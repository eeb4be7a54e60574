// DICOM through DCMTK: a folder holding one image series (or a single file) -> one Volume.
// Key decisions: slices are sorted by ImagePositionPatient projected on the slice normal (row x column direction of
// ImageOrientationPatient), never by file name or InstanceNumber; RescaleSlope/Intercept are applied; the LPS
// patient geometry is converted to RAS for Volume::affine; a folder mixing series is an error naming them.
#pragma once
#include <string>

#include "data/volume.h"

namespace seg {

Volume read_dicom(const std::string& path);

}  // namespace seg
