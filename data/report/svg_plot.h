// Line plots as standalone SVG files (learning curves: Dice per epoch), written atomically.
// Key decision: SVG is text, needs no library and opens in every browser; axes auto-scale with a small margin.
#pragma once
#include <string>
#include <vector>

namespace seg {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  std::string color = "#1f77b4";
};

// Text escaped for an SVG text node or attribute value (<, >, &).
std::string svg_escape(const std::string& s);

void write_line_plot_svg(const std::string& path, const std::string& title, const std::string& xlabel,
                         const std::string& ylabel, const std::vector<PlotSeries>& series, double ymin = 0.0,
                         double ymax = 1.0);

}  // namespace seg
