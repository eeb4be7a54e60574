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

Volume read_jsrt(const std::string& path);
Volume decode_jsrt(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace seg
