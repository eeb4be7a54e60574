// 2-D phantoms: JSRT chest X-ray (lungs, heart, clavicles), colonoscopy polyp frames (RGB) and fundus photographs
// with optic disc and cup (RGB), each written in the layout the loader reads.
// Key decisions: JSRT images are 2048² 12-bit big-endian .IMG as the database ships them, with its stored polarity
// (high values = radiolucent lung, dark on display: loaders compute 1 − v/4096 to display), and SCR-style label maps
// at 1024² in masks/<ID>.png (0 background, 1 lung, 2 heart, 3 clavicle); polyp masks are 0/255 PNGs (Kvasir /
// CVC style), fundus masks hold label ids (0 background, 1 disc rim, 2 cup: the disc is {1, 2}).
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "data/volume.h"

namespace seg {

// (image, labels) at side×side (0: JSRT's 2048); labels as described above.
std::pair<Volume, Volume> make_jsrt_case(uint64_t seed, int index, int64_t side = 0);
// DIR/images/JPCPHxxxx.IMG + DIR/masks/JPCPHxxxx.png (1024²)
void write_jsrt_phantom(const std::string& dir, int n, uint64_t seed);

// RGB (channels = 3, uint8) image and 0/1 polyp mask; default 384×288 (CVC-ClinicDB's size).
std::pair<Volume, Volume> make_polyp_case(uint64_t seed, int index, int64_t width = 0);
// DIR/images/polyp_XXX.png + DIR/masks/polyp_XXX.png (0/255)
void write_polyp_phantom(const std::string& dir, int n, uint64_t seed, int64_t width = 0);

// RGB image and label map (0, 1 rim, 2 cup); default 512².
std::pair<Volume, Volume> make_fundus_case(uint64_t seed, int index, int64_t side = 0);
// DIR/images/fundus_XXX.png + DIR/masks/fundus_XXX.png (label ids)
void write_fundus_phantom(const std::string& dir, int n, uint64_t seed, int64_t side = 0);

}  // namespace seg
