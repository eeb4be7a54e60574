// Overlays a person can read: a grey image with the ground-truth outline in green, the prediction outline in red
// (and their overlap yellow), upscaled by nearest neighbour so small training sizes stay legible.
#pragma once
#include <cstdint>
#include <vector>

namespace seg {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes a pixel
};

// image: h×w values in [0,1]; gt, pred: h×w masks (non-zero = organ); side-by-side panels: image | image+outlines.
RgbImage make_overlay(const float* image, const uint8_t* gt, const uint8_t* pred, int h, int w, int upscale = 2);

}  // namespace seg
