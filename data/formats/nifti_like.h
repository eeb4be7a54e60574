// Writing a NIfTI file "like" another one: the input's header is copied (NIfTI-1 or NIfTI-2, either byte order),
// so qform and sform — their codes, quaternion, offsets and rows, even when they disagree — pixdim, units and the
// slice fields stay exactly as the input had them; only what describes the new voxels changes (datatype, bitpix,
// dims 4..7, scaling, cal_min/max, intent, vox_offset). Used by `segtool predict` so a label map overlays its image
// in ITK-SNAP / 3D Slicer / nibabel exactly (nibabel's Nifti1Image(data, None, header=img.header) does the same).
// Key decision: the header is kept as raw bytes and patched field by field; read_nifti stays the one parser of the
// geometry (Volume::affine), this file never interprets the transforms.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

struct NiftiHeaderBytes {
  int version = 1;            // 1 or 2
  bool swapped = false;       // stored in the other byte order than this machine's
  int qform_code = 0, sform_code = 0;
  std::vector<uint8_t> raw;   // 348 or 540 bytes as stored
};

// Reads only the header of a .nii / .nii.gz (errors name the file).
NiftiHeaderBytes read_nifti_header(const std::string& path);

// Writes vol (its voxels; dims must match the header's first three) as `datatype` with the header `like`; the file
// is gzip-compressed when path ends in .gz. intent_label sets NIfTI's intent code 1002 (label map).
void write_nifti_like(const std::string& path, const NiftiHeaderBytes& like, const Volume& vol, const std::string& datatype,
                      bool intent_label);

}  // namespace seg
