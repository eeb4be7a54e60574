// SVG figures rasterised to PNG (every plot of the apps is written as SVG and as PNG).
// Key decision: the PNG is rendered from the very SVG file through librsvg + cairo (Debian librsvg2-dev), so the two
// formats can never disagree and no plotting code is written twice; the PNG is written atomically (temp + rename).
#pragma once
#include <string>

namespace seg {

// Renders svg_path to png_path at `scale` × the SVG's own size. Throws naming the file on any failure.
void write_png_from_svg(const std::string& svg_path, const std::string& png_path, double scale = 1.5);

}  // namespace seg
