// JPEG reading through libjpeg(-turbo): grey -> 1 channel, colour -> 3 channel-major planes (uint8, spacing 1).
// Key decision: masks stored as JPEG are lossy; thresholding them is the data-set loader's job, not the reader's.
#pragma once
#include <cstdint>
#include <string>

#include "data/volume.h"

namespace seg {

Volume read_jpeg(const std::string& path);
Volume decode_jpeg(const uint8_t* data, size_t size, const std::string& name);

}  // namespace seg
