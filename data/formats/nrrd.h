// NRRD (.nrrd with attached data, .nhdr with a detached data file): raw, gzip and ascii encodings.
// Key decisions: "space directions" and "space origin" define the affine (converted from the file's space, LPS or
// RAS, to RAS); without them "spacings" gives a diagonal one. A non-spatial axis (direction "none") becomes channels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

Volume read_nrrd(const std::string& path);
// Parses an NRRD header (+ attached data) held in memory; a detached "data file" is looked up in `dir`.
Volume parse_nrrd(const std::vector<uint8_t>& bytes, const std::string& name, const std::string& dir);

// Writes NRRD0004 in left-posterior-superior space (as 3D Slicer does), gzip-encoded when `gzip`. Integer datatypes
// that cannot hold the values are written as float32.
void write_nrrd(const std::string& path, const Volume& vol, bool gzip);

}  // namespace seg
