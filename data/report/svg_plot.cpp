// SVG line plots (see svg_plot.h).
#include "data/report/svg_plot.h"

#include "data/formats/image_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace seg {

std::string svg_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '<') r += "&lt;";
    else if (c == '>') r += "&gt;";
    else if (c == '&') r += "&amp;";
    else r += c;
  }
  return r;
}

void write_line_plot_svg(const std::string& path, const std::string& title, const std::string& xlabel,
                         const std::string& ylabel, const std::vector<PlotSeries>& series, double ymin, double ymax) {
  const double W = 640, H = 400, L = 60, R = 20, T = 40, B = 50;
  double xmin = 1e300, xmax = -1e300;
  for (const auto& s : series)
    for (double v : s.x) { xmin = std::min(xmin, v); xmax = std::max(xmax, v); }
  if (!(xmin < xmax)) { xmin = xmin > 1e299 ? 0 : xmin - 1; xmax = xmin + 2; }
  if (!(ymin < ymax)) ymax = ymin + 1;
  auto px = [&](double v) { return L + (v - xmin) / (xmax - xmin) * (W - L - R); };
  auto py = [&](double v) { return H - B - (v - ymin) / (ymax - ymin) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' font-size='12'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << W / 2 << "' y='22' text-anchor='middle' font-size='15'>" << svg_escape(title) << "</text>\n";
  for (int i = 0; i <= 5; ++i) {  // horizontal grid and y ticks
    const double v = ymin + (ymax - ymin) * i / 5.0;
    o << "<line x1='" << L << "' x2='" << W - R << "' y1='" << py(v) << "' y2='" << py(v) << "' stroke='#ddd'/>"
      << "<text x='" << L - 6 << "' y='" << py(v) + 4 << "' text-anchor='end'>" << std::round(v * 100) / 100 << "</text>\n";
  }
  for (int i = 0; i <= 5; ++i) {
    const double v = xmin + (xmax - xmin) * i / 5.0;
    o << "<text x='" << px(v) << "' y='" << H - B + 16 << "' text-anchor='middle'>" << std::round(v * 10) / 10 << "</text>\n";
  }
  o << "<line x1='" << L << "' x2='" << L << "' y1='" << T << "' y2='" << H - B << "' stroke='black'/>"
    << "<line x1='" << L << "' x2='" << W - R << "' y1='" << H - B << "' y2='" << H - B << "' stroke='black'/>\n"
    << "<text x='" << (L + W - R) / 2 << "' y='" << H - 12 << "' text-anchor='middle'>" << svg_escape(xlabel) << "</text>\n"
    << "<text transform='translate(16," << (T + H - B) / 2 << ") rotate(-90)' text-anchor='middle'>" << svg_escape(ylabel) << "</text>\n";
  int k = 0;
  for (const auto& s : series) {
    o << "<polyline fill='none' stroke='" << s.color << "' stroke-width='2' points='";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) o << px(s.x[i]) << "," << py(std::clamp(s.y[i], ymin, ymax)) << " ";
    o << "'/>\n<rect x='" << L + 10 << "' y='" << T + 6 + 18 * k << "' width='14' height='4' fill='" << s.color << "'/>"
      << "<text x='" << L + 30 << "' y='" << T + 12 + 18 * k << "'>" << svg_escape(s.label) << "</text>\n";
    ++k;
  }
  o << "</svg>\n";
  const std::string text = o.str();
  io::write_file_atomic(path, std::vector<uint8_t>(text.begin(), text.end()), false);
}

}  // namespace seg
