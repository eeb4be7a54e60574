// MetaImage (.mha with the data inside, .mhd with a separate .raw/.zraw), as written by ITK and used by Promise12.
// Key decisions: MetaImage geometry is LPS (ITK's world) and is converted to RAS for Volume::affine;
// TransformMatrix lists the direction of axis 0, then axis 1, ... (ITK's order); CompressedData is a zlib stream.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

Volume read_metaimage(const std::string& path);
// Parses a MetaImage header (+ LOCAL data) held in memory; a detached ElementDataFile is looked up in `dir`.
Volume parse_metaimage(const std::vector<uint8_t>& bytes, const std::string& name, const std::string& dir);

// .mha: one file; .mhd: header plus PATH-without-extension.raw (.zraw when compressed). Integer datatypes that
// cannot hold the values are written as float32 (MetaImage has no scaling fields).
void write_metaimage(const std::string& path, const Volume& vol, bool compress);

}  // namespace seg
