// NIfTI-1 and NIfTI-2 (.nii, .nii.gz) reading, NIfTI-1 writing.
// Key decisions: the affine follows nibabel (sform when sform_code > 0, else the qform quaternion when qform_code > 0,
// else pixdim on the diagonal); scl_slope/scl_inter are applied on read (slope 0 or NaN = no scaling); volumes with
// more than 3 dims keep dims 4..7 as channels (channel-major planes, the order NIfTI stores them in).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

// Reads a .nii or .nii.gz file (gzip detected by content, not by name).
Volume read_nifti(const std::string& path);
// Parses an uncompressed NIfTI-1/2 image held in memory; `name` is used in error messages.
Volume parse_nifti(const std::vector<uint8_t>& bytes, const std::string& name);

// Writes NIfTI-1 (.nii or, by name, .nii.gz) as `datatype` ("" = vol.datatype). Integer types whose values do not fit
// (non-integers, out of range) are written with scl_slope/scl_inter as nibabel does, so values survive.
// Both sform (code 1, scanner) and qform (the quaternion of the affine's rotation) are set.
void write_nifti(const std::string& path, const Volume& vol, const std::string& datatype = "");

// NIfTI datatype code <-> Volume datatype name ("" / 0 when not supported).
std::string nifti_datatype_name(int code);
int nifti_datatype_code(const std::string& name);

}  // namespace seg
