// JSRT chest X-ray raw images (.IMG): 2048 x 2048, 12-bit values in big-endian uint16, 0.175 mm pixels, no header.
// Key decision: values are kept as stored (0..4095, no inversion), so the reader is exact and loaders decide display.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/volume.h"

namespace seg {

constexpr int64_t kJsrtSide = 2048;
constexpr double kJsrtSpacing = 0.175;

// SCR's per-structure masks of JSRT (one binary image each), in the order they are composed into one label map.
// "Left"/"right" are the patient's: the right lung is on the image's left in these PA radiographs.
constexpr int kScrStructureCount = 5;
extern const char* const kScrStructures[kScrStructureCount];  // "left lung", "right lung", "heart", "left clavicle",
                                                               // "right clavicle"

// How the SCR structures become label ids (composed in kScrStructures order, later structures win on overlap).
enum class JsrtClasses {
  LungHeartClavicle,   // 1 lung (both), 2 heart, 3 clavicle (the default: clavicles drawn over the lungs)
  RightLeftLungHeart,  // paper 2: 1 right lung, 2 left lung, 3 heart; clavicles not a class (the lung stays under them)
};
// The label id of structure s (index into kScrStructures) under `classes`; 0 = the structure is not drawn.
int scr_label(JsrtClasses classes, int s);

Volume read_jsrt(const std::string& path);
Volume decode_jsrt(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace seg
