// 2-D phantoms: JSRT chest X-ray (lungs, heart, clavicles), colonoscopy polyp frames (RGB) and fundus photographs
// with optic disc and cup (RGB), each written in the layout the loader reads.
// Key decisions: JSRT images are 2048² 12-bit big-endian .IMG as the database ships them, with its stored polarity
// (high values = radiolucent lung, dark on display: loaders compute 1 − v/4096 to display), and SCR's masks as SCR
// ships them: one 1024² 0/255 GIF per structure (left lung, right lung, heart, left clavicle, right clavicle) in
// scratch/fold1|fold2/masks/<structure>/<ID>.gif, so both JSRT class sets (data/formats/jsrt.h JsrtClasses) can be
// read; polyp masks are 0/255 PNGs (Kvasir / CVC style), fundus masks hold label ids (0 background, 1 disc rim,
// 2 cup: the disc is {1, 2}).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/formats/jsrt.h"
#include "data/volume.h"

namespace seg {

// A JSRT phantom case at side×side (0: JSRT's 2048): the image (stored polarity, 0..4095) and per pixel a bit set of
// the SCR structures covering it (bit s: kScrStructures[s]; the lungs stop at the heart, clavicles overlap them).
struct JsrtCase {
  Volume image;
  std::vector<uint8_t> structures;
};
JsrtCase make_jsrt_structures(uint64_t seed, int index, int64_t side = 0);
// (image, labels) at side×side, the structures composed into `classes` as the loader composes SCR's masks.
std::pair<Volume, Volume> make_jsrt_case(uint64_t seed, int index, int64_t side = 0,
                                         JsrtClasses classes = JsrtClasses::LungHeartClavicle);
// DIR/JPCPHxxxx.IMG + DIR/scratch/fold1|fold2/masks/<structure>/JPCPHxxxx.gif (1024²), case i in fold (i % 2) + 1
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
