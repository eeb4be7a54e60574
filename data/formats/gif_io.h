// GIF reading and writing through giflib (Debian libgif-dev): the format SCR ships JSRT's lung, heart and clavicle
// masks in (scratch/fold1|fold2/masks/<structure>/<ID>.gif, 1024²).
// Key decisions: only the first image of a file is read, painted on its logical screen (background colour where it
// does not cover it), interlacing undone; palette indices are expanded through the image's (or the global) colour
// map: one grey channel when every palette entry is grey (R = G = B), else three channel-major planes, as read_png
// does. Spacing is 1 × 1. Row 0 of the file is y = 0 of the Volume. Errors name the file and giflib's reason.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

Volume read_gif(const std::string& path);
Volume decode_gif(const uint8_t* data, size_t size, const std::string& name);

// A w×h grey GIF (256-entry grey palette; values rounded and clamped to 0..255), written to PATH.tmp then renamed.
void write_gif_grey(const std::string& path, int w, int h, const std::vector<uint8_t>& grey);

}  // namespace seg
