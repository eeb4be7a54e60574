// PNG reading and writing through libpng.
// Key decisions: grey images become one channel (8- or 16-bit values kept, no gamma or scaling), colour images three
// channel-major planes (alpha dropped, palettes expanded); spacing is 1 x 1 (PNG carries no reliable pixel size).
// Row 0 of the file is y = 0 of the Volume.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

Volume read_png(const std::string& path);
Volume decode_png(const uint8_t* data, size_t size, const std::string& name);

// 2-D volumes only (nz == 1): 1 channel -> grey (16-bit when vol.datatype is uint16/int16/..., else 8-bit),
// 3 channels -> RGB 8-bit. Values are rounded and clamped to the bit depth.
void write_png(const std::string& path, const Volume& vol);
// Raw buffers, row-major: grey is w*h bytes, rgb is w*h*3 interleaved bytes.
void write_png_grey(const std::string& path, int w, int h, const std::vector<uint8_t>& grey);
void write_png_rgb(const std::string& path, int w, int h, const std::vector<uint8_t>& rgb);

}  // namespace seg
